using Tessera.Kernels.Core;

namespace Tessera.Kernels.Indexing;

/// <summary>How Pad fills positions outside the input.</summary>
internal enum PadMode
{
    Constant,
    Reflect,
    Edge,
    Wrap,
}

internal static class PadModes
{
    public static PadMode Parse(string mode) => mode switch
    {
        "constant" => PadMode.Constant,
        "reflect" => PadMode.Reflect,
        "edge" => PadMode.Edge,
        "wrap" => PadMode.Wrap,
        _ => throw new KernelException($"Pad mode '{mode}' is not one of constant, reflect, edge, wrap"),
    };

    /// <summary>The input coordinate an output position at input coordinate <paramref name="i"/> copies, or -1 for the constant.</summary>
    public static int Map(long i, int n, PadMode mode)
    {
        if ((ulong)i < (ulong)n)
        {
            return (int)i;
        }

        switch (mode)
        {
            case PadMode.Edge:
                return i < 0 ? 0 : n - 1;
            case PadMode.Wrap:
                long w = i % n;
                return (int)(w < 0 ? w + n : w);
            case PadMode.Reflect:
                if (n == 1)
                {
                    return 0;
                }

                // Reflection about both edges repeats with period 2(n-1), as numpy.pad does for wide pads.
                long period = 2L * (n - 1);
                long m = i % period;
                if (m < 0)
                {
                    m += period;
                }

                return (int)(m >= n ? period - m : m);
            default:
                return -1;
        }
    }
}
