#ifndef SENTINEL_REPL_CLIBEDIT_SHIM_H
#define SENTINEL_REPL_CLIBEDIT_SHIM_H

#include <histedit.h>
#include <stdio.h>
#include <locale.h>
#include <wchar.h>

/* Swift cannot call C variadics (el_set, el_get, history) nor read C's stdio
   globals under strict concurrency: these wrappers do it on the C side. */

static inline EditLine *sr_el_init(const char *prog) {
    setlocale(LC_CTYPE, "");
    return el_init(prog, stdin, stdout, stderr);
}

static inline int sr_el_set_prompt(EditLine *el, char *(*fn)(EditLine *)) {
    return el_set(el, EL_PROMPT, fn);
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

#endif
