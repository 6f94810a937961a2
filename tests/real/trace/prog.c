/* prog.c - programs that make life hard for KHEAP_TRACE (tests/real/trace-test runs them):
 *   prog close DATA          close fds 3..1023, open DATA, write it while allocating
 *   prog dup2 DATA           open DATA and dup2 it over fds 3..64, write it while allocating
 *   prog fds                 print the descriptors from 3 up this process has open after allocating
 *   prog fork N exit|_exit   N children that allocate, then end with exit(0) or _exit(0)
 *   prog symlink FILE VICTIM a child plants a symlink FILE.<its pid> -> VICTIM, then exit(0)
 *   prog threads N           4 threads allocate while the main thread forks N children (exit(0))
 *   prog churn N             N malloc/free pairs, nothing else
 * The data written is the same whatever malloc is in use, so a run under kheap must give a file
 * byte-identical to a run without it. */
#include <dirent.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static void die(const char *what)
{
    perror(what);
    exit(2);
}

/* 20000 rounds, each a malloc'd line written to fd and freed, with a realloc now and then and a
 * few blocks kept: well over 10000 trace records. */
static void write_data(int fd)
{
    char *keep[64] = { 0 };
    for (int i = 0; i < 20000; i++) {
        size_t cap = 32 + (size_t)(i % 300); /* the longest line is 21 bytes */
        char *p = malloc(cap);
        if (!p)
            die("malloc");
        int n = snprintf(p, cap, "line %d %x\n", i, (unsigned)i * 2654435761u);
        if (i % 7 == 0) {
            char *q = realloc(p, cap * 3);
            if (!q)
                die("realloc");
            p = q;
        }
        if (write(fd, p, (size_t)n) != n)
            die("write");
        if (i % 50 == 0) {
            free(keep[i % 64]);
            keep[i % 64] = p;
        } else {
            free(p);
        }
    }
    for (int i = 0; i < 64; i++)
        free(keep[i]);
}

static void churn(long n)
{
    for (long i = 0; i < n; i++) {
        void *volatile p = malloc((size_t)(1 + i % 1000));
        free(p);
    }
}

static void *thread_churn(void *arg)
{
    churn((long)(size_t)arg);
    return NULL;
}

static void wait_all(int n)
{
    for (int i = 0; i < n; i++) {
        int st;
        if (wait(&st) < 0 || !WIFEXITED(st) || WEXITSTATUS(st) != 0)
            die("child");
    }
}

int main(int argc, char **argv)
{
    const char *mode = argc > 1 ? argv[1] : "";
    churn(100);                       /* as a real program does before it gets to its files */
    if (!strcmp(mode, "close") && argc == 3) {
        for (int fd = 3; fd < 1024; fd++)
            close(fd);
        int fd = open(argv[2], O_WRONLY | O_CREAT | O_TRUNC, 0644);
        if (fd < 0)
            die(argv[2]);
        write_data(fd);
        if (close(fd) != 0)
            die("close");
    } else if (!strcmp(mode, "dup2") && argc == 3) {
        int fd = open(argv[2], O_WRONLY | O_CREAT | O_TRUNC, 0644);
        if (fd < 0)
            die(argv[2]);
        for (int to = 3; to <= 64; to++)
            if (to != fd && dup2(fd, to) < 0)
                die("dup2");
        write_data(64);
        for (int to = 3; to <= 64; to++)
            close(to);
    } else if (!strcmp(mode, "fds") && argc == 2) {
        churn(1000);
        DIR *d = opendir("/proc/self/fd");
        if (!d)
            die("/proc/self/fd");
        struct dirent *e;
        while ((e = readdir(d)) != NULL) {
            int fd = atoi(e->d_name);
            if (e->d_name[0] != '.' && fd >= 3 && fd != dirfd(d))
                printf("%d\n", fd);
        }
        closedir(d);
    } else if (!strcmp(mode, "fork") && argc == 4) {
        int n = atoi(argv[2]), normal = !strcmp(argv[3], "exit");
        churn(1000);
        for (int i = 0; i < n; i++) {
            pid_t pid = fork();
            if (pid < 0)
                die("fork");
            if (pid == 0) {
                churn(200 + i);
                if (normal)
                    exit(0);
                _exit(0);
            }
        }
        wait_all(n);
        churn(1000);
    } else if (!strcmp(mode, "symlink") && argc == 4) {
        churn(1000);
        pid_t pid = fork();
        if (pid < 0)
            die("fork");
        if (pid == 0) {
            char link[4096];
            churn(500);
            snprintf(link, sizeof link, "%s.%d", argv[2], (int)getpid());
            if (symlink(argv[3], link) != 0)
                die("symlink");
            exit(0);
        }
        wait_all(1);
    } else if (!strcmp(mode, "threads") && argc == 3) {
        int n = atoi(argv[2]);
        pthread_t t[4];
        for (int i = 0; i < 4; i++)
            if (pthread_create(&t[i], NULL, thread_churn, (void *)(size_t)200000) != 0)
                die("pthread_create");
        for (int i = 0; i < n; i++) {
            pid_t pid = fork();
            if (pid < 0)
                die("fork");
            if (pid == 0) {
                churn(100);
                exit(0);
            }
        }
        wait_all(n);
        for (int i = 0; i < 4; i++)
            pthread_join(t[i], NULL);
    } else if (!strcmp(mode, "churn") && argc == 3) {
        churn(atol(argv[2]));
    } else {
        fprintf(stderr, "usage: see prog.c\n");
        return 2;
    }
    return 0;
}
