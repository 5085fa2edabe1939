using System.Diagnostics;
using System.Runtime.InteropServices;

namespace Tessera.Kernels.Core;

/// <summary>
/// A diagnostic record of the parallel loops <see cref="WorkerPool"/> runs, to see how a loop's work was shared between
/// the threads without timing them against each other: per loop its body type, chunk count, when it was posted, when
/// the caller ran out of chunks and when the last one ended, the chunks and thread CPU time each side ran, the caller's
/// CPU while it waited for the worker, and the CPU the worker spent idle before it took the loop; per chunk the thread
/// that ran it and its thread CPU time. CPU times (Linux thread clocks) hold under load, where wall times mostly measure the other processes, so
/// a 2-thread split can be simulated from them (bench/pool-trace.py). Off unless TESSERA_POOL_TRACE names a file
/// (written at process exit, loops there and chunks in FILE.chunks) or a test sets <see cref="WorkerPool.Trace"/>: the
/// pool then reads one field per loop and per chunk.
/// </summary>
internal sealed unsafe class WorkerPoolTrace
{
    private const int ClockThreadCpuTime = 3; // CLOCK_THREAD_CPUTIME_ID

    private readonly Loop[] _loops;
    private readonly Chunk[] _chunks;
    private readonly Dictionary<Type, int> _bodyIds = [];
    private readonly List<string> _bodies = [];
    private int _loopCount;
    private int _chunkCount;

    [ThreadStatic]
    private static int t_body;

    static WorkerPoolTrace()
    {
        if (Environment.GetEnvironmentVariable("TESSERA_POOL_TRACE") is { Length: > 0 } path && OperatingSystem.IsLinux())
        {
            var trace = new WorkerPoolTrace(1 << 20, 1 << 23);
            AppDomain.CurrentDomain.ProcessExit += (_, _) => trace.Write(path);
            FromEnvironment = trace;
        }
    }

    /// <summary>A trace with room for the given numbers of loops and chunks (those beyond are counted, not kept).</summary>
    public WorkerPoolTrace(int loops, int chunks)
    {
        _loops = new Loop[loops];
        _chunks = new Chunk[chunks];
    }

    /// <summary>The trace TESSERA_POOL_TRACE asks for, which every pool records into; null when it is not set.</summary>
    public static WorkerPoolTrace? FromEnvironment { get; }

    /// <summary>Loops recorded so far.</summary>
    public ReadOnlySpan<Loop> Loops => _loops.AsSpan(0, Math.Min(Volatile.Read(ref _loopCount), _loops.Length));

    public ReadOnlySpan<Chunk> Chunks => _chunks.AsSpan(0, Math.Min(Volatile.Read(ref _chunkCount), _chunks.Length));

    public string BodyName(int body)
    {
        lock (_bodyIds)
        {
            return _bodies[body];
        }
    }

    /// <summary>Names the body of the next loop this thread posts.</summary>
    public void SetBody(Type body)
    {
        lock (_bodyIds)
        {
            if (!_bodyIds.TryGetValue(body, out int id))
            {
                _bodyIds[body] = id = _bodies.Count;
                _bodies.Add(body.DeclaringType is { } outer ? $"{outer.Name}.{body.Name}" : body.Name);
            }

            t_body = id;
        }
    }

    /// <summary>A new loop's index and its body (named by <see cref="SetBody"/> on this thread).</summary>
    public (int Index, int Body) Begin() => (Interlocked.Increment(ref _loopCount) - 1, t_body);

    public void End(int index, in Loop loop)
    {
        if (index < _loops.Length)
        {
            _loops[index] = loop;
        }
    }

    public void AddChunk(int loop, int chunk, int participant, long cpu)
    {
        int slot = Interlocked.Increment(ref _chunkCount) - 1;
        if (slot < _chunks.Length)
        {
            _chunks[slot] = new Chunk(loop, chunk, participant, cpu);
        }
    }

    /// <summary>This thread's CPU time in nanoseconds.</summary>
    public static long ThreadCpu()
    {
        Timespec now;
        return ClockGettime(ClockThreadCpuTime, &now) == 0 ? now.Seconds * 1_000_000_000 + now.Nanoseconds : 0;
    }

    private void Write(string path)
    {
        double us = 1e6 / Stopwatch.Frequency;
        using (var writer = new StreamWriter(path))
        {
            writer.WriteLine("loop body chunks post_us caller_done_us end_us caller_chunks worker_chunks caller_cpu_us worker_cpu_us join_cpu_us worker_idle_cpu_us");
            var loops = Loops;
            for (int i = 0; i < loops.Length; i++)
            {
                var l = loops[i];
                writer.WriteLine($"{i} {BodyName(l.Body)} {l.Chunks} {l.Posted * us:F1} {l.CallerDone * us:F1} {l.Ended * us:F1} {l.CallerChunks} {l.WorkerChunks} " +
                    $"{l.CallerCpu / 1e3:F1} {l.WorkerCpu / 1e3:F1} {l.JoinCpu / 1e3:F1} {l.WorkerIdleCpu / 1e3:F1}");
            }
        }

        using var chunkWriter = new StreamWriter(path + ".chunks");
        chunkWriter.WriteLine("loop chunk thread cpu_us");
        foreach (var c in Chunks)
        {
            chunkWriter.WriteLine($"{c.Loop} {c.Index} {c.Participant} {c.Cpu / 1e3:F1}");
        }
    }

    [DllImport("libc", EntryPoint = "clock_gettime")]
    private static extern int ClockGettime(int clock, Timespec* time);

    [StructLayout(LayoutKind.Sequential)]
    private struct Timespec
    {
        public long Seconds;
        public long Nanoseconds;
    }

    /// <summary>One loop: Stopwatch timestamps, CPU times in nanoseconds; the worker's fields sum over the pool's workers.</summary>
    public struct Loop
    {
        public int Body;
        public int Chunks;
        public long Posted;
        public long CallerDone;
        public long Ended;
        public int CallerChunks;
        public int WorkerChunks;
        public long CallerCpu;
        public long WorkerCpu;
        public long JoinCpu;
        public long WorkerIdleCpu;
    }

    /// <summary>Chunk <paramref name="Index"/> of a loop, run by <paramref name="Participant"/> (0 the caller, i + 1 worker i).</summary>
    public readonly record struct Chunk(int Loop, int Index, int Participant, long Cpu);
}
