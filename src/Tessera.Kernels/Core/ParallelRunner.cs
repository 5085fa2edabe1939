namespace Tessera.Kernels.Core;

/// <summary>
/// Intra-operator parallelism with a fixed degree. Kernels split work into contiguous ranges; a degree of 1
/// runs everything on the calling thread.
/// </summary>
public sealed class ParallelRunner
{
    private readonly ParallelOptions _options;

    public ParallelRunner(int degree)
    {
        Degree = Math.Max(1, degree);
        _options = new ParallelOptions { MaxDegreeOfParallelism = Degree };
    }

    public static ParallelRunner Sequential { get; } = new(1);

    public int Degree { get; }

    /// <summary>Runs <paramref name="body"/>(i) for i in [0, count), spread over at most <see cref="Degree"/> threads.</summary>
    public void For(int count, Action<int> body)
    {
        if (count <= 0)
        {
            return;
        }

        if (Degree == 1 || count == 1)
        {
            for (int i = 0; i < count; i++)
            {
                body(i);
            }

            return;
        }

        Parallel.For(0, count, _options, body);
    }

    /// <summary>Splits [0, total) into at most <see cref="Degree"/> contiguous ranges of at least <paramref name="minChunk"/> and runs body(start, end) on each.</summary>
    public void ForRange(int total, int minChunk, Action<int, int> body)
    {
        if (total <= 0)
        {
            return;
        }

        int chunks = Math.Clamp(total / Math.Max(1, minChunk), 1, Degree);
        if (chunks == 1)
        {
            body(0, total);
            return;
        }

        For(chunks, c =>
        {
            int start = (int)((long)total * c / chunks);
            int end = (int)((long)total * (c + 1) / chunks);
            body(start, end);
        });
    }
}
