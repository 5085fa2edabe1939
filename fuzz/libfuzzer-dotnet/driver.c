// libFuzzer in front of a .NET process: libFuzzer mutates inputs in this process, the .NET target (Tessera.Fuzz
// libfuzzer TARGET, via SharpFuzz's Fuzzer.LibFuzzer.Run) runs them. The protocol is SharpFuzz's: one System V shared
// memory segment holds a 64 KiB coverage map (the instrumented assemblies' branch counters) followed by up to 1 MiB of
// input; a control pipe carries each input's length to the child, a status pipe its 4-byte result back (0 = passed).
// The coverage map is copied into libFuzzer's extra counters after every input, which is what guides the mutations.
//
// Usage: tessera-libfuzzer [libFuzzer flags] CORPUS_DIR -- COMMAND [ARG...]
#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/shm.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#define COVERAGE_BYTES (1 << 16)
#define INPUT_BYTES (1 << 20)
#define CONTROL_FD 198
#define STATUS_FD 199

// "used": the counters are only written here (libFuzzer reads them through the section), which -O2 would drop.
__attribute__((used, section("__libfuzzer_extra_counters"))) uint8_t counters[COVERAGE_BYTES];

static uint8_t *shared;
static int shm_id = -1;
static int control_fd = -1;
static int status_fd = -1;
static pid_t child = -1;

static void fail(const char *what)
{
    fprintf(stderr, "tessera-libfuzzer: %s: %s\n", what, strerror(errno));
    exit(1);
}

static void cleanup(void)
{
    if (shm_id >= 0) shmctl(shm_id, IPC_RMID, NULL);
    if (child > 0) kill(child, SIGKILL);
}

static int transfer(int fd, void *buffer, int writing)
{
    ssize_t done;
    do
    {
        done = writing ? write(fd, buffer, 4) : read(fd, buffer, 4);
    } while (done < 0 && errno == EINTR);
    return (int)done;
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    int separator = 0;
    for (int i = 1; i < *argc; i++)
    {
        if (strcmp((*argv)[i], "--") == 0)
        {
            separator = i;
            break;
        }
    }

    if (separator == 0 || separator + 1 >= *argc)
    {
        fprintf(stderr, "usage: %s [libFuzzer flags] [CORPUS_DIR] -- COMMAND [ARG...]\n", (*argv)[0]);
        exit(2);
    }

    char **command = &(*argv)[separator + 1];
    (*argv)[separator] = NULL; // libFuzzer sees only what comes before "--"
    *argc = separator;

    int control[2], status[2];
    if (pipe(control) || pipe(status)) fail("pipe");
    shm_id = shmget(IPC_PRIVATE, COVERAGE_BYTES + INPUT_BYTES, IPC_CREAT | IPC_EXCL | 0600);
    if (shm_id < 0) fail("shmget");
    atexit(cleanup);
    shared = shmat(shm_id, NULL, 0);
    if (shared == (void *)-1) fail("shmat");

    child = fork();
    if (child < 0) fail("fork");
    if (child == 0)
    {
        if (dup2(control[0], CONTROL_FD) < 0 || dup2(status[1], STATUS_FD) < 0) fail("dup2");
        close(control[0]);
        close(control[1]);
        close(status[0]);
        close(status[1]);
        char id[16];
        snprintf(id, sizeof id, "%d", shm_id);
        setenv("__LIBFUZZER_SHM_ID", id, 1);
        setenv("__LIBFUZZER_CONTROL_PIPE_ID", "198", 1);
        setenv("__LIBFUZZER_STATUS_PIPE_ID", "199", 1);
        execvp(command[0], command);
        fail("exec");
    }

    close(control[0]);
    close(status[1]);
    control_fd = control[1];
    status_fd = status[0];
    int32_t ready;
    if (transfer(status_fd, &ready, 0) != 4)
    {
        fprintf(stderr, "tessera-libfuzzer: the target did not start (see its output above)\n");
        exit(1);
    }

    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > INPUT_BYTES) return -1; // libFuzzer's -max_len keeps inputs below this; never run a cut input
    memset(shared, 0, COVERAGE_BYTES);
    memcpy(shared + COVERAGE_BYTES, data, size);
    int32_t length = (int32_t)size, result;
    if (transfer(control_fd, &length, 1) != 4)
    {
        fprintf(stderr, "tessera-libfuzzer: the target is gone\n");
        abort();
    }

    int got = transfer(status_fd, &result, 0);
    memcpy(counters, shared, COVERAGE_BYTES);
    if (got != 4)
    {
        // The .NET process died on this input (stack overflow, fail-fast): a crash libFuzzer records with the input.
        fprintf(stderr, "tessera-libfuzzer: the target died on this input\n");
        child = -1;
        abort();
    }

    if (result != 0)
    {
        abort(); // the target's property failed; its message is on stderr
    }

    return 0;
}
