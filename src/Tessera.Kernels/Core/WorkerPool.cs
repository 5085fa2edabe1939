using System.Diagnostics;
using System.Runtime.ExceptionServices;

namespace Tessera.Kernels.Core;

/// <summary>
/// Long-lived worker threads that help one caller at a time run the chunks of a parallel loop. The caller posts a
/// job (a body pointer, an invoker and a chunk count), runs chunks itself, and returns once every chunk is done;
/// workers claim chunks with an atomic counter, so uneven chunks balance themselves.
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

    private readonly Worker[] _workers;

    // The current job: written by the caller before it posts, read by workers only after they win Posted -> Running.
    private void* _body;
    private delegate*<void*, int, int, void> _invoke;
    private int _total;
    private int _chunks;
    private int _nextChunk;
    private Exception? _failure;

    // 1 while a caller owns the pool; a caller that cannot take it runs inline.
    private int _busy;

    // Managed bytes the workers allocated while running the current job, charged to its caller when it ends.
    private long _jobAllocated;

    [ThreadStatic]
    private static long t_helperAllocated;

    private WorkerPool(int workerCount)
    {
        _workers = new Worker[workerCount];
        for (int i = 0; i < workerCount; i++)
        {
            var worker = new Worker();
            worker.Thread = new Thread(() => WorkerLoop(worker)) { IsBackground = true, Name = $"Tessera worker {i + 1}/{workerCount}" };
            _workers[i] = worker;
            worker.Thread.Start();
        }
    }

    public int WorkerCount => _workers.Length;

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
            Volatile.Write(ref _nextChunk, 0);

            int helpers = Math.Min(_workers.Length, chunks - 1);
            for (int i = 0; i < helpers; i++)
            {
                Volatile.Write(ref _workers[i].State, Posted);
                _workers[i].Wake.Set();
            }

            RunChunks();

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

    private void RunChunks()
    {
        int chunks = _chunks;
        long total = _total;
        while (true)
        {
            int c = Interlocked.Increment(ref _nextChunk) - 1;
            if (c >= chunks)
            {
                return;
            }

            if (Volatile.Read(ref _failure) is not null)
            {
                continue; // the loop has failed: drain the counter without running more work
            }

            try
            {
                _invoke(_body, (int)(total * c / chunks), (int)(total * (c + 1) / chunks));
            }
            catch (Exception e)
            {
                Interlocked.CompareExchange(ref _failure, e, null);
            }
        }
    }

    private void WorkerLoop(Worker worker)
    {
        while (true)
        {
            long spinUntil = Stopwatch.GetTimestamp() + SpinTicks;
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
                RunChunks();
                Interlocked.Add(ref _jobAllocated, GC.GetAllocatedBytesForCurrentThread() - allocated);
                Volatile.Write(ref worker.State, Idle);
            }
        }
    }

    private sealed class Worker
    {
        public readonly ManualResetEventSlim Wake = new(false, spinCount: 0);
        public Thread Thread = null!;
        public int State;
    }
}
