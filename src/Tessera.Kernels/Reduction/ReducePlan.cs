namespace Tessera.Kernels.Reduction;

/// <summary>
/// How to reduce a shape over a set of axes as a sequence of [outer, reduced, inner] passes. Size-1 axes are
/// dropped and adjacent axes with the same role merged, so the common cases (trailing axes, leading axes,
/// everything) take one pass; alternating patterns take one pass per reduced block, innermost first.
/// </summary>
internal sealed class ReducePlan
{
    private ReducePlan(int inputLength, int outputLength, long reducedCount, (int Outer, int Reduced, int Inner)[] passes)
    {
        InputLength = inputLength;
        OutputLength = outputLength;
        ReducedCount = reducedCount;
        Passes = passes;
    }

    public int InputLength { get; }

    public int OutputLength { get; }

    /// <summary>Elements folded into each output element (the divisor of a mean).</summary>
    public long ReducedCount { get; }

    /// <summary>Passes to run in order; the element count after pass i is Outer * Inner. Empty when nothing is to be computed.</summary>
    public (int Outer, int Reduced, int Inner)[] Passes { get; }

    public static ReducePlan Create(ReadOnlySpan<int> shape, ReadOnlySpan<bool> reduced)
    {
        long input = 1, output = 1, count = 1;
        for (int i = 0; i < shape.Length; i++)
        {
            input *= shape[i];
            if (reduced[i])
            {
                count *= shape[i];
            }
            else
            {
                output *= shape[i];
            }
        }

        if (input == 0)
        {
            // Either nothing to produce, or every output is the identity of an empty reduction.
            return new ReducePlan(0, (int)output, count, []);
        }

        var sizes = new List<int>();
        var roles = new List<bool>();
        for (int i = 0; i < shape.Length; i++)
        {
            if (shape[i] == 1)
            {
                continue;
            }

            if (roles.Count > 0 && roles[^1] == reduced[i])
            {
                sizes[^1] *= shape[i];
            }
            else
            {
                sizes.Add(shape[i]);
                roles.Add(reduced[i]);
            }
        }

        var passes = new List<(int, int, int)>();
        for (int g = sizes.Count - 1; g >= 0; g--)
        {
            if (!roles[g])
            {
                continue;
            }

            int outer = 1, inner = 1;
            for (int i = 0; i < g; i++)
            {
                outer *= sizes[i];
            }

            for (int i = g + 1; i < sizes.Count; i++)
            {
                inner *= sizes[i];
            }

            passes.Add((outer, sizes[g], inner));
            sizes.RemoveAt(g);
            roles.RemoveAt(g);
        }

        if (passes.Count == 0)
        {
            // Only size-1 axes are reduced: one pass that maps each element on its own (x*x for sums of squares).
            passes.Add((1, 1, (int)input));
        }

        return new ReducePlan((int)input, (int)output, count, [.. passes]);
    }
}
