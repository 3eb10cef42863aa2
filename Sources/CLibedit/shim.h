#ifndef SENTINEL_REPL_CLIBEDIT_SHIM_H
#define SENTINEL_REPL_CLIBEDIT_SHIM_H

#include <histedit.h>
#include <stdio.h>
#include <locale.h>
#include <wchar.h>
#include <signal.h>
#include <termios.h>
#include <unistd.h>

/* Swift cannot call C variadics (el_set, el_get, history) nor read C's stdio
   globals under strict concurrency: these wrappers do it on the C side. */

static inline EditLine *sr_el_init(const char *prog) {
    setlocale(LC_CTYPE, "");
    return el_init(prog, stdin, stdout, stderr);
}

/* Characters between two '\1' in the prompt are printed but take no width (colours). */
static inline int sr_el_set_prompt(EditLine *el, char *(*fn)(EditLine *)) {
    return el_set(el, EL_PROMPT_ESC, fn, '\1');
}

static inline int sr_el_set_editor(EditLine *el, const char *mode) {
    return el_set(el, EL_EDITOR, mode);
}

static inline int sr_el_set_clientdata(EditLine *el, void *data) {
    return el_set(el, EL_CLIENTDATA, data);
}

static inline void *sr_el_get_clientdata(EditLine *el) {
    void *data = NULL;
    el_get(el, EL_CLIENTDATA, &data);
    return data;
}

static inline int sr_el_set_history(EditLine *el, History *h) {
    return el_set(el, EL_HIST, history, h);
}

static inline int sr_el_addfn(EditLine *el, const char *name, const char *help,
                              unsigned char (*fn)(EditLine *, int)) {
    return el_set(el, EL_ADDFN, name, help, fn);
}

static inline int sr_el_bind(EditLine *el, const char *key, const char *fn) {
    return el_set(el, EL_BIND, key, fn, NULL);
}

/* mode: "-d" edit (while el_gets reads), "-x" execute (after it returns). */
static inline int sr_el_settty(EditLine *el, const char *mode, const char *a, const char *b) {
    return el_set(el, EL_SETTY, mode, a, b, NULL);
}

static inline int sr_el_set_getcfn(EditLine *el, int (*fn)(EditLine *, wchar_t *)) {
    return el_set(el, EL_GETCFN, fn);
}

static inline int sr_el_set_signal(EditLine *el, int on) {
    return el_set(el, EL_SIGNAL, on);
}

static inline int sr_el_source_none(EditLine *el) {
    /* Read no ~/.editrc: the bindings are ours. */
    (void)el;
    return 0;
}

static inline int sr_el_refresh(EditLine *el) {
    return el_set(el, EL_REFRESH);
}

static inline History *sr_history_init(void) {
    return history_init();
}

static inline int sr_history_setsize(History *h, int size) {
    HistEvent ev;
    return history(h, &ev, H_SETSIZE, size);
}

static inline int sr_history_setunique(History *h, int unique) {
    HistEvent ev;
    return history(h, &ev, H_SETUNIQUE, unique);
}

static inline int sr_history_enter(History *h, const char *line) {
    HistEvent ev;
    return history(h, &ev, H_ENTER, line);
}

static inline int sr_history_load(History *h, const char *path) {
    HistEvent ev;
    return history(h, &ev, H_LOAD, path);
}

static inline int sr_history_save(History *h, const char *path) {
    HistEvent ev;
    return history(h, &ev, H_SAVE, path);
}

/* The terminal's settings before the editor changed them, put back by a fatal
   signal (a Swift trap is SIGILL or SIGTRAP) before the process dies of it.
   tcsetattr is async-signal-safe. Call these from one Swift file only: each
   file that calls a static inline function gets its own copy of its statics. */
/* Function-local statics: Swift emits no storage for a header's file-level ones. */
static inline struct termios *sr_guarded_settings(void) {
    static struct termios settings;
    return &settings;
}

static inline volatile sig_atomic_t *sr_guard_armed(void) {
    static volatile sig_atomic_t armed = 0;
    return &armed;
}

static inline void sr_guard_restore_and_die(int signo) {
    if (*sr_guard_armed()) tcsetattr(0, TCSANOW, sr_guarded_settings());
    signal(signo, SIG_DFL);
    raise(signo);
}

#define SR_GUARDED_SIGNALS { SIGILL, SIGTRAP, SIGABRT, SIGSEGV, SIGBUS, SIGFPE }

static inline void sr_terminal_guard_arm(const struct termios *settings) {
    const int guarded[] = SR_GUARDED_SIGNALS;
    *sr_guarded_settings() = *settings;
    *sr_guard_armed() = 1;
    for (unsigned i = 0; i < sizeof guarded / sizeof guarded[0]; i++) {
        struct sigaction action = { 0 };
        action.sa_handler = sr_guard_restore_and_die;
        action.sa_flags = SA_RESETHAND;
        sigaction(guarded[i], &action, NULL);
    }
}

static inline void sr_terminal_guard_disarm(void) {
    const int guarded[] = SR_GUARDED_SIGNALS;
    *sr_guard_armed() = 0;
    for (unsigned i = 0; i < sizeof guarded / sizeof guarded[0]; i++) signal(guarded[i], SIG_DFL);
}

/* The terminal's width as libedit knows it (80 when it cannot tell). */
static inline int sr_el_columns(EditLine *el) {
    int columns = 0;
    if (el_get(el, EL_GETTC, "co", &columns) != 0 || columns <= 0) return 80;
    return columns;
}

/* Columns a character takes on the terminal (the locale's, set at sr_el_init); -1 unknown.
   Declared here, not through _XOPEN_SOURCE: a feature macro in this module changes glibc's
   struct definitions (ucontext.h) and clashes with other modules' (a fuzz build failed so). */
extern int wcwidth(wchar_t c);
static inline int sr_wcwidth(wchar_t c) {
    return wcwidth(c);
}

#endif
