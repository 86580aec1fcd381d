/* Interleaved timing runner for the benchmarks: runs each command once per round, in a
 * rotating order, for N rounds, timing fork+exec+wait with CLOCK_MONOTONIC; prints the
 * median and the 10th/90th percentiles of each command and the ratio of the medians to the
 * first command. Commands are given as separate arguments, words split on spaces.
 * Usage: runner N 'cmd one' 'cmd two' ... ; a command that fails aborts the run. */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static int cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

int main(int argc, char **argv)
{
	if (argc < 3) { fprintf(stderr, "usage: runner N CMD...\n"); return 2; }
	int n = atoi(argv[1]), k = argc - 2;
	char **av[k];
	for (int i = 0; i < k; i++) {
		av[i] = calloc(64, sizeof(char *));
		int j = 0;
		for (char *t = strtok(strdup(argv[i + 2]), " "); t && j < 63; t = strtok(NULL, " "))
			av[i][j++] = t;
	}
	double *t = calloc((size_t)n * k, sizeof(double));
	for (int r = 0; r < n; r++) {
		for (int q = 0; q < k; q++) {
			int i = (q + r) % k;
			struct timespec a, b;
			clock_gettime(CLOCK_MONOTONIC, &a);
			pid_t c = fork();
			if (c == 0) {
				execvp(av[i][0], av[i]);
				_exit(127);
			}
			int st;
			waitpid(c, &st, 0);
			clock_gettime(CLOCK_MONOTONIC, &b);
			if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) {
				fprintf(stderr, "runner: '%s' failed (status %d)\n", argv[i + 2], st);
				return 1;
			}
			t[i * n + r] = (b.tv_sec - a.tv_sec) * 1e6 + (b.tv_nsec - a.tv_nsec) / 1e3;
		}
	}
	double base = 0;
	printf("%-90s %10s %10s %10s %8s\n", "command", "median_us", "p10_us", "p90_us", "ratio");
	for (int i = 0; i < k; i++) {
		qsort(t + i * n, n, sizeof(double), cmp);
		double med = t[i * n + n / 2];
		if (i == 0) base = med;
		printf("%-90.90s %10.1f %10.1f %10.1f %8.3f\n", argv[i + 2], med,
		       t[i * n + n / 10], t[i * n + n * 9 / 10], med / base);
	}
	return 0;
}
