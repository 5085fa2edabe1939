using System.Runtime.CompilerServices;

namespace Tessera.Kernels.Core;

/// <summary>
/// Intra-operator parallelism with a fixed degree. Kernels split work into contiguous ranges that the calling
/// thread and <see cref="Degree"/> - 1 long-lived workers run together; a degree of 1 runs everything on the
/// calling thread.
/// </summary>
/// <remarks>
/// Runners of the same degree share one process-wide <see cref="WorkerPool"/> of background threads that sleep
/// when idle, so a runner owns nothing to dispose. A loop started while the pool is already running one (a body
/// that calls ForRange again, or another session of the same degree on another thread) runs inline on its caller.
/// <see cref="ForRange{TBody}(int, int, ref TBody)"/> allocates nothing; the delegate overloads allocate only
/// what their callers' lambdas do.
/// </remarks>
public sealed unsafe class ParallelRunner
{
    private readonly WorkerPool? _pool;

    public ParallelRunner(int degree)
    {
        Degree = Math.Max(1, degree);
        _pool = Degree > 1 ? WorkerPool.Shared(Degree) : null;
    }

    public static ParallelRunner Sequential { get; } = new(1);

    public int Degree { get; }

    /// <summary>
    /// Managed bytes that pool workers allocated while running loops this thread started: added to
    /// <see cref="GC.GetAllocatedBytesForCurrentThread"/>, it counts everything a call on this thread allocated.
    /// </summary>
    public static long HelperAllocatedBytesForCurrentThread => WorkerPool.HelperAllocatedBytesForCurrentThread;

    /// <summary>Runs <paramref name="body"/>(i) for i in [0, count), spread over at most <see cref="Degree"/> threads.</summary>
    public void For(int count, Action<int> body)
    {
        if (count <= 0)
        {
            return;
        }

        // Items are claimed dynamically, so a few chunks per thread keep uneven items balanced.
        var adapter = new DelegateForBody(body);
        Run(count, Math.Min(count, Degree * 8), ref adapter);
    }

    /// <summary>Splits [0, total) into at most <see cref="Degree"/> contiguous ranges of at least <paramref name="minChunk"/> and runs body(start, end) on each.</summary>
    public void ForRange(int total, int minChunk, Action<int, int> body)
    {
        var adapter = new DelegateRangeBody(body);
        ForRange(total, minChunk, ref adapter);
    }

    /// <summary>
    /// Splits [0, total) into at most <see cref="Degree"/> contiguous ranges of at least <paramref name="minChunk"/>
    /// and runs <paramref name="body"/>.Invoke(start, end) on each, without allocating.
    /// </summary>
    public void ForRange<TBody>(int total, int minChunk, ref TBody body)
        where TBody : struct, IRangeBody
    {
        if (total <= 0)
        {
            return;
        }

        Run(total, Math.Clamp(total / Math.Max(1, minChunk), 1, Degree), ref body);
    }

    /// <summary>
    /// Splits [0, total) into <paramref name="chunks"/> contiguous ranges (at most <paramref name="total"/>) and runs
    /// <paramref name="body"/>.Invoke(start, end) on each, without allocating. Each thread starts on its own contiguous
    /// share of the chunks and then takes over what the others have not started, so more chunks than threads keep
    /// every thread busy to the end when chunks take uneven time, e.g. while another process holds one of the cores;
    /// the bodies must not care which thread runs which chunk.
    /// </summary>
    public void ForChunks<TBody>(int total, int chunks, ref TBody body)
        where TBody : struct, IRangeBody
    {
        if (total <= 0)
        {
            return;
        }

        Run(total, Math.Clamp(chunks, 1, total), ref body);
    }

    /// <summary>Number of chunks <see cref="ForRange{TBody}(int, int, ref TBody)"/> would split <paramref name="total"/> into.</summary>
    public int ChunkCount(int total, int minChunk) => total <= 0 ? 0 : Math.Clamp(total / Math.Max(1, minChunk), 1, Degree);

    private void Run<TBody>(int total, int chunks, ref TBody body)
        where TBody : struct, IRangeBody
    {
        if (chunks > 1 && _pool is not null)
        {
            // A copy on this stack frame: workers reach it by address, and a stack slot never moves.
            TBody local = body;
            _pool.Trace?.SetBody(typeof(TBody));
            if (_pool.TryRun(Unsafe.AsPointer(ref local), &Invoke<TBody>, total, chunks))
            {
                return;
            }
        }

        if (chunks <= 1)
        {
            body.Invoke(0, total);
            return;
        }

        for (int c = 0; c < chunks; c++)
        {
            body.Invoke((int)((long)total * c / chunks), (int)((long)total * (c + 1) / chunks));
        }
    }

    private static void Invoke<TBody>(void* body, int start, int end)
        where TBody : struct, IRangeBody => Unsafe.AsRef<TBody>(body).Invoke(start, end);
}
