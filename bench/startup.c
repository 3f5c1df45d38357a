/* bench/startup.c — the start-up timing harness used by the benchmark driver (bench/driver).
 *
 * Usage: startup ROUNDS WARMUP LABEL=PATH [LABEL=PATH ...]
 *
 * Runs the given programs INTERLEAVED, round-robin (A, B, C, A, B, C, ...), so that machine
 * noise (frequency changes, other load, cache state) falls on all of them alike. Each run is
 * posix_spawn (no arguments, the caller's environment, stdin and stdout on /dev/null, stderr
 * inherited) followed by waitpid, timed with CLOCK_MONOTONIC from just before the spawn to
 * just after the reap: i.e. the whole life of the process as its parent sees it.
 *
 * WARMUP rounds are run first and discarded, then ROUNDS are timed. Any run that does not
 * exit with status 0 aborts the whole benchmark loudly (exit 2): a crashing or failing
 * program has no meaningful start-up time.
 *
 * Output on stdout, one line per program, whitespace-separated, times in microseconds:
 *     LABEL RUNS MEDIAN MEAN P10 P90 MIN MAX
 * Diagnostics go to stderr.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <spawn.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

struct prog {
    const char *label; /* name shown in the output */
    char *path;        /* absolute path of the executable */
    uint64_t *ns;      /* one duration per timed round, in nanoseconds */
};

static uint64_t now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* Spawn one program, wait for it, return its wall time in ns; abort unless it exits 0. */
static uint64_t run_once(const struct prog *p, const posix_spawn_file_actions_t *fa) {
    char *argv[] = {p->path, NULL};
    pid_t pid;
    int status;
    uint64_t t0 = now_ns();
    int err = posix_spawn(&pid, p->path, fa, NULL, argv, environ);
    if (err != 0) {
        fprintf(stderr, "startup: FAILED to spawn %s (%s): %s\n", p->label, p->path,
                strerror(err));
        exit(2);
    }
    while (waitpid(pid, &status, 0) < 0) {
        if (errno != EINTR) {
            perror("startup: waitpid");
            exit(2);
        }
    }
    uint64_t t1 = now_ns();
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        if (WIFSIGNALED(status))
            fprintf(stderr, "startup: FAILED: %s (%s) was killed by signal %d (%s)\n",
                    p->label, p->path, WTERMSIG(status), strsignal(WTERMSIG(status)));
        else
            fprintf(stderr, "startup: FAILED: %s (%s) exited with status %d\n", p->label,
                    p->path, WEXITSTATUS(status));
        exit(2);
    }
    return t1 - t0;
}

static int cmp_u64(const void *a, const void *b) {
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return (x > y) - (x < y);
}

/* Percentile q in [0,1] of sorted v[0..n), linearly interpolated, in microseconds. */
static double pct_us(const uint64_t *v, size_t n, double q) {
    double pos = q * (double)(n - 1);
    size_t i = (size_t)pos;
    double frac = pos - (double)i;
    double x = (double)v[i];
    if (i + 1 < n) x += frac * ((double)v[i + 1] - (double)v[i]);
    return x / 1000.0;
}

int main(int argc, char **argv) {
    if (argc < 4) {
        fprintf(stderr, "usage: %s ROUNDS WARMUP LABEL=PATH [LABEL=PATH ...]\n", argv[0]);
        return 2;
    }
    long rounds = strtol(argv[1], NULL, 10);
    long warmup = strtol(argv[2], NULL, 10);
    if (rounds < 1 || warmup < 0) {
        fprintf(stderr, "startup: bad ROUNDS/WARMUP\n");
        return 2;
    }
    int np = argc - 3;
    struct prog *progs = calloc((size_t)np, sizeof *progs);
    if (!progs) return 2;
    for (int i = 0; i < np; i++) {
        char *arg = argv[3 + i];
        char *eq = strchr(arg, '=');
        if (!eq || eq == arg || !eq[1]) {
            fprintf(stderr, "startup: expected LABEL=PATH, got '%s'\n", arg);
            return 2;
        }
        *eq = '\0';
        progs[i].label = arg;
        progs[i].path = eq + 1;
        if (access(progs[i].path, X_OK) != 0) {
            fprintf(stderr, "startup: %s: %s is not executable: %s\n", arg, progs[i].path,
                    strerror(errno));
            return 2;
        }
        progs[i].ns = malloc((size_t)rounds * sizeof(uint64_t));
        if (!progs[i].ns) return 2;
    }

    /* The children's stdin and stdout go to /dev/null; stderr stays, to show failures. */
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);

    for (long r = 0; r < warmup; r++)
        for (int i = 0; i < np; i++) (void)run_once(&progs[i], &fa);
    for (long r = 0; r < rounds; r++)
        for (int i = 0; i < np; i++) progs[i].ns[r] = run_once(&progs[i], &fa);

    for (int i = 0; i < np; i++) {
        uint64_t *v = progs[i].ns;
        size_t n = (size_t)rounds;
        double sum = 0;
        for (size_t k = 0; k < n; k++) sum += (double)v[k];
        qsort(v, n, sizeof *v, cmp_u64);
        printf("%s %ld %.1f %.1f %.1f %.1f %.1f %.1f\n", progs[i].label, rounds,
               pct_us(v, n, 0.5), sum / (double)n / 1000.0, pct_us(v, n, 0.1),
               pct_us(v, n, 0.9), (double)v[0] / 1000.0, (double)v[n - 1] / 1000.0);
    }
    posix_spawn_file_actions_destroy(&fa);
    return 0;
}
