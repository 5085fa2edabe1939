using System.Diagnostics;
using System.Runtime.ExceptionServices;

namespace Tessera.Kernels.Core;

/// <summary>
/// Long-lived worker threads that help one caller at a time run the chunks of a parallel loop. The caller posts a
/// job (a body pointer, an invoker and a chunk count), runs chunks itself, and returns once every chunk is done.
/// Each thread owns a contiguous share of the chunks and takes them from its front; a thread that runs out takes
/// the last unclaimed chunk of another share, so uneven chunks (or a thread another process holds up) still balance.
/// </summary>
/// <remarks>
/// One pool per degree of parallelism serves the whole process (<see cref="Shared"/>): its threads are background
/// threads that spin for <see cref="SpinTicks"/> after a job, then sleep on an event, so an idle pool costs no CPU
/// and nothing needs disposing. A pool runs one job at a time: a second caller (another session's thread, or a
/// body that itself calls ForRange) finds it busy and runs its loop inline, which is also what makes nested
/// loops safe from deadlock.
/// </remarks>
internal sealed unsafe class WorkerPool
{
    private const int Idle = 0;
    private const int Posted = 1;
    private const int Running = 2;

    private static readonly Dictionary<int, WorkerPool> s_shared = [];
    private static readonly long SpinTicks = Stopwatch.Frequency / 10_000; // 100 µs
    private const int ShareStride = 8; // longs: 64 bytes

    private readonly Worker[] _workers;

    // The current job: written by the caller before it posts, read by workers only after they win Posted -> Running.
    private void* _body;
    private delegate*<void*, int, int, void> _invoke;
    private int _total;
    private int _chunks;
    private Exception? _failure;

    // Thread p's share of the current job's chunks (p = 0 the caller, i + 1 worker i): the next unclaimed chunk in the
    // low half and the end of the unclaimed run in the high half of the long at index p * ShareStride (a cache line
    // apart). The owner takes from the front, others from the end. Shares are contiguous, so on a quiet machine each
    // thread runs the same part of every loop of the same size: the rows one loop writes are the rows the next loop
    // on that thread reads, still in that core's cache, as with a static split (ForRange's halves, the float GEMM's
    // row split). Chunks handed out in the order threads ask for them interleave a loop's rows between the cores (the
    // integer GEMM's 12 row blocks on 2 threads), so the loop after it reads about half its input from the other core.
    private readonly long[] _shares;
    private int _participants;

    // 1 while a caller owns the pool; a caller that cannot take it runs inline.
    private int _busy;

    // Managed bytes the workers allocated while running the current job, charged to its caller when it ends.
    private long _jobAllocated;

    [ThreadStatic]
    private static long t_helperAllocated;

    // With a WorkerPoolTrace on: the current loop's index and what the workers add to its record.
    private WorkerPoolTrace? _trace;
    private int _traceLoop;
    private long _traceWorkerChunks, _traceWorkerCpu, _traceWorkerIdleCpu;

    private WorkerPool(int workerCount)
    {
        _workers = new Worker[workerCount];
        _shares = new long[(workerCount + 1) * ShareStride];
        for (int i = 0; i < workerCount; i++)
        {
            var worker = new Worker { Participant = i + 1 };
            worker.Thread = new Thread(() => WorkerLoop(worker)) { IsBackground = true, Name = $"Tessera worker {i + 1}/{workerCount}" };
            _workers[i] = worker;
            worker.Thread.Start();
        }
    }

    public int WorkerCount => _workers.Length;

    /// <summary>Where the loops this pool runs are recorded (diagnostics; TESSERA_POOL_TRACE), or null.</summary>
    public WorkerPoolTrace? Trace { get; set; } = WorkerPoolTrace.FromEnvironment;

    /// <summary>Managed bytes that workers allocated running loops this thread posted (diagnostics: allocation tests).</summary>
    public static long HelperAllocatedBytesForCurrentThread => t_helperAllocated;

    /// <summary>The process-wide pool with <paramref name="degree"/> - 1 workers (the caller is the last thread).</summary>
    public static WorkerPool Shared(int degree)
    {
        lock (s_shared)
        {
            if (!s_shared.TryGetValue(degree, out var pool))
            {
                s_shared[degree] = pool = new WorkerPool(degree - 1);
            }

            return pool;
        }
    }

    /// <summary>
    /// Runs chunk c of [0, total) for c in [0, chunks) on this thread and the workers; false (nothing run) when
    /// the pool is busy with another job. <paramref name="body"/> must stay valid until this returns.
    /// </summary>
    public bool TryRun(void* body, delegate*<void*, int, int, void> invoke, int total, int chunks)
    {
        if (Interlocked.CompareExchange(ref _busy, 1, 0) != 0)
        {
            return false;
        }

        try
        {
            _body = body;
            _invoke = invoke;
            _total = total;
            _chunks = chunks;
            _failure = null;
            var trace = _trace = Trace;
            WorkerPoolTrace.Loop record = default;
            if (trace is not null)
            {
                (_traceLoop, record.Body) = trace.Begin();
                _traceWorkerChunks = _traceWorkerCpu = _traceWorkerIdleCpu = 0;
                record.Chunks = chunks;
                record.Posted = Stopwatch.GetTimestamp();
            }

            int helpers = Math.Min(_workers.Length, chunks - 1);
            int participants = helpers + 1;
            _participants = participants;
            for (int p = 0; p < participants; p++)
            {
                long first = (long)chunks * p / participants, end = (long)chunks * (p + 1) / participants;
                Volatile.Write(ref _shares[p * ShareStride], (end << 32) | first);
            }

            for (int i = 0; i < helpers; i++)
            {
                Volatile.Write(ref _workers[i].State, Posted);
                _workers[i].Wake.Set();
            }

            long cpu = trace is null ? 0 : WorkerPoolTrace.ThreadCpu();
            int ran = RunChunks(0);
            if (trace is not null)
            {
                record.CallerDone = Stopwatch.GetTimestamp();
                record.CallerChunks = ran;
                long now = WorkerPoolTrace.ThreadCpu();
                record.CallerCpu = now - cpu;
                cpu = now;
            }

            for (int i = 0; i < helpers; i++)
            {
                // A worker that has not picked the job up yet is told not to; one that has is waited for.
                ref int state = ref _workers[i].State;
                if (Interlocked.CompareExchange(ref state, Idle, Posted) != Posted)
                {
                    var spin = default(SpinWait);
                    while (Volatile.Read(ref state) != Idle)
                    {
                        spin.SpinOnce(sleep1Threshold: -1);
                    }
                }
            }

            if (trace is not null)
            {
                record.JoinCpu = WorkerPoolTrace.ThreadCpu() - cpu;
                record.Ended = Stopwatch.GetTimestamp();
                record.WorkerChunks = (int)_traceWorkerChunks;
                record.WorkerCpu = _traceWorkerCpu;
                record.WorkerIdleCpu = _traceWorkerIdleCpu;
                trace.End(_traceLoop, record);
                _trace = null;
            }

            _body = null;
            t_helperAllocated += Interlocked.Exchange(ref _jobAllocated, 0);
            if (_failure is { } failure)
            {
                _failure = null;
                ExceptionDispatchInfo.Throw(failure);
            }
        }
        finally
        {
            Volatile.Write(ref _busy, 0);
        }

        return true;
    }

    /// <summary>Runs thread <paramref name="participant"/>'s share of the chunks, then whatever the others have not claimed; returns how many it ran.</summary>
    private int RunChunks(int participant)
    {
        int ran = 0;
        int participants = _participants;
        for (int k = 0; k < participants; k++)
        {
            int owner = (participant + k) % participants;
            int c;
            while ((c = Claim(ref _shares[owner * ShareStride], fromEnd: k > 0)) >= 0)
            {
                RunChunk(c, participant);
                ran++;
            }
        }

        return ran;
    }

    /// <summary>The share's first (or, taking from another thread's share, last) unclaimed chunk; -1 when none is left.</summary>
    private static int Claim(ref long share, bool fromEnd)
    {
        while (true)
        {
            long packed = Volatile.Read(ref share);
            int next = (int)packed, end = (int)(packed >> 32);
            if (next >= end)
            {
                return -1;
            }

            long claimed = fromEnd ? packed - (1L << 32) : packed + 1;
            if (Interlocked.CompareExchange(ref share, claimed, packed) == packed)
            {
                return fromEnd ? end - 1 : next;
            }
        }
    }

    private void RunChunk(int c, int participant)
    {
        if (Volatile.Read(ref _failure) is not null)
        {
            return; // the loop has failed: the chunks left are claimed without running more work
        }

        long total = _total;
        int chunks = _chunks;
        try
        {
            var trace = _trace;
            long cpu = trace is null ? 0 : WorkerPoolTrace.ThreadCpu();
            _invoke(_body, (int)(total * c / chunks), (int)(total * (c + 1) / chunks));
            trace?.AddChunk(_traceLoop, c, participant, WorkerPoolTrace.ThreadCpu() - cpu);
        }
        catch (Exception e)
        {
            Interlocked.CompareExchange(ref _failure, e, null);
        }
    }

    private void WorkerLoop(Worker worker)
    {
        while (true)
        {
            long spinUntil = Stopwatch.GetTimestamp() + SpinTicks;
            long idleCpu = Trace is null ? 0 : WorkerPoolTrace.ThreadCpu();
            int spins = 0;
            while (Volatile.Read(ref worker.State) != Posted)
            {
                if (Stopwatch.GetTimestamp() < spinUntil)
                {
                    // Yield now and then: the machine may have fewer free cores than the pool has threads.
                    if (++spins % 64 == 0)
                    {
                        Thread.Yield();
                    }
                    else
                    {
                        Thread.SpinWait(20);
                    }

                    continue;
                }

                worker.Wake.Reset();
                if (Volatile.Read(ref worker.State) != Posted)
                {
                    worker.Wake.Wait();
                }

                spinUntil = Stopwatch.GetTimestamp() + SpinTicks;
            }

            if (Interlocked.CompareExchange(ref worker.State, Running, Posted) == Posted)
            {
                long allocated = GC.GetAllocatedBytesForCurrentThread();
                if (_trace is not null)
                {
                    long cpu = WorkerPoolTrace.ThreadCpu();
                    Interlocked.Add(ref _traceWorkerIdleCpu, idleCpu == 0 ? 0 : cpu - idleCpu);
                    Interlocked.Add(ref _traceWorkerChunks, RunChunks(worker.Participant));
                    Interlocked.Add(ref _traceWorkerCpu, WorkerPoolTrace.ThreadCpu() - cpu);
                }
                else
                {
                    RunChunks(worker.Participant);
                }

                Interlocked.Add(ref _jobAllocated, GC.GetAllocatedBytesForCurrentThread() - allocated);
                Volatile.Write(ref worker.State, Idle);
            }
        }
    }

    private sealed class Worker
    {
        public readonly ManualResetEventSlim Wake = new(false, spinCount: 0);
        public Thread Thread = null!;
        public int Participant;
        public int State;
    }
}
