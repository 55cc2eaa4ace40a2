/*-------------------------------------------------------------------------
 *
 * replay.c
 *		Run a libFuzzer harness over files, without libFuzzer or clang.
 *
 * Linked with one harness (its LLVMFuzzerTestOneInput), this main() calls
 * it once on every file named on the command line, or in the directories
 * named (not recursively, in name order).  Each file runs in a child
 * process, so that a check that aborts, a sanitizer report or a hang
 * (REPLAY_TIMEOUT seconds, default 60) fails that file only and the others
 * still run.  Prints one line per failed file and ends with
 * "N passed, N failed" (N counting files); exits 1 if any failed.
 *
 * This is how `make test` replays the fuzz corpus as a regression test
 * (tools/run-fuzz-replay), with gcc's ASan and UBSan where available.
 *
 * test/fuzz/replay.c
 *
 *-------------------------------------------------------------------------
 */
#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

extern int	LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Read a whole file into a buffer of exactly its size (so ASan sees overreads) */
static uint8_t *
read_file(const char *path, size_t *size)
{
	FILE	   *f = fopen(path, "rb");
	uint8_t    *buf = NULL;
	size_t		len = 0;
	size_t		cap = 0;
	uint8_t    *exact;

	if (f == NULL)
		return NULL;
	for (;;)
	{
		size_t		n;

		if (len == cap)
		{
			cap = cap ? cap * 2 : 65536;
			buf = realloc(buf, cap);
			if (buf == NULL)
			{
				fclose(f);
				return NULL;
			}
		}
		n = fread(buf + len, 1, cap - len, f);
		len += n;
		if (n == 0)
			break;
	}
	fclose(f);
	exact = malloc(len ? len : 1);
	if (exact != NULL && len > 0)
		memcpy(exact, buf, len);
	free(buf);
	*size = len;
	return exact;
}

/* Run one file in a child process; true if it passed */
static int
run_one(const char *path, unsigned timeout)
{
	pid_t		pid;
	int			status;

	fflush(stdout);
	fflush(stderr);
	pid = fork();
	if (pid < 0)
	{
		fprintf(stderr, "replay: fork: %s\n", strerror(errno));
		return 0;
	}
	if (pid == 0)
	{
		size_t		size = 0;
		uint8_t    *data = read_file(path, &size);

		if (data == NULL)
		{
			fprintf(stderr, "replay: cannot read %s\n", path);
			_exit(2);
		}
		alarm(timeout);
		LLVMFuzzerTestOneInput(data, size);
		free(data);
		exit(0);				/* exit(), not _exit(): let LeakSanitizer run */
	}
	while (waitpid(pid, &status, 0) < 0)
	{
		if (errno != EINTR)
		{
			fprintf(stderr, "replay: waitpid: %s\n", strerror(errno));
			return 0;
		}
	}
	if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
		return 1;
	if (WIFSIGNALED(status))
		printf("FAILED %s (signal %d%s)\n", path, WTERMSIG(status),
			   WTERMSIG(status) == SIGALRM ? ", timeout" : "");
	else
		printf("FAILED %s (exit status %d)\n", path, WEXITSTATUS(status));
	return 0;
}

static int
cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *) a, *(char *const *) b);
}

int
main(int argc, char **argv)
{
	unsigned	timeout = 60;
	long		passed = 0;
	long		failed = 0;
	int			i;

	if (getenv("REPLAY_TIMEOUT") != NULL)
		timeout = (unsigned) atoi(getenv("REPLAY_TIMEOUT"));
	if (argc < 2)
	{
		fprintf(stderr, "usage: %s FILE_OR_DIRECTORY...\n", argv[0]);
		return 2;
	}

	for (i = 1; i < argc; i++)
	{
		struct stat st;
		DIR		   *dir;
		struct dirent *de;
		char	  **names = NULL;
		size_t		n = 0;
		size_t		cap = 0;
		size_t		k;

		if (stat(argv[i], &st) != 0)
		{
			printf("FAILED %s (%s)\n", argv[i], strerror(errno));
			failed++;
			continue;
		}
		if (!S_ISDIR(st.st_mode))
		{
			if (run_one(argv[i], timeout))
				passed++;
			else
				failed++;
			continue;
		}

		dir = opendir(argv[i]);
		if (dir == NULL)
		{
			printf("FAILED %s (%s)\n", argv[i], strerror(errno));
			failed++;
			continue;
		}
		while ((de = readdir(dir)) != NULL)
		{
			char	   *path;
			struct stat fst;

			if (de->d_name[0] == '.')
				continue;		/* ., .., and hidden files */
			path = malloc(strlen(argv[i]) + strlen(de->d_name) + 2);
			if (path == NULL)
				return 2;
			sprintf(path, "%s/%s", argv[i], de->d_name);
			if (stat(path, &fst) != 0 || !S_ISREG(fst.st_mode))
			{
				free(path);
				continue;
			}
			if (n == cap)
			{
				cap = cap ? cap * 2 : 64;
				names = realloc(names, cap * sizeof(char *));
				if (names == NULL)
					return 2;
			}
			names[n++] = path;
		}
		closedir(dir);
		qsort(names, n, sizeof(char *), cmp_str);
		for (k = 0; k < n; k++)
		{
			if (run_one(names[k], timeout))
				passed++;
			else
				failed++;
			free(names[k]);
		}
		free(names);
	}

	printf("%ld passed, %ld failed\n", passed, failed);
	return failed == 0 ? 0 : 1;
}
