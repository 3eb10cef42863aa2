#ifndef SENTINEL_REPL_CPTY_H
#define SENTINEL_REPL_CPTY_H
/* Pseudo-terminal calls that Swift's Glibc module leaves out (they need _GNU_SOURCE). */
int sr_open_pty(char *slave_name, int capacity);
short sr_posix_spawn_setsid_flag(void);
/* A pipe whose ends are closed on exec, made atomically. */
int sr_pipe_cloexec(int fds[2]);
#endif
