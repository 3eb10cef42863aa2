#define _GNU_SOURCE
#include <fcntl.h>
#include <spawn.h>
#include <stdlib.h>
#include <string.h>
#include "cpty.h"

int sr_open_pty(char *slave_name, int capacity) {
    int master = posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC);
    if (master < 0) return -1;
    if (grantpt(master) != 0 || unlockpt(master) != 0) return -1;
    if (ptsname_r(master, slave_name, (size_t)capacity) != 0) return -1;
    return master;
}

short sr_posix_spawn_setsid_flag(void) { return POSIX_SPAWN_SETSID; }

#include <unistd.h>
int sr_pipe_cloexec(int fds[2]) { return pipe2(fds, O_CLOEXEC); }
