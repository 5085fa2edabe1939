using System.Globalization;
using Tessera.Cli.Common;

namespace Tessera.Cli.Bench.Gemm;

/// <summary>
/// One `bench-gemm --shape MxNxK`: C (M x N) = A (M x K) · B (K x N). Each dimension is bounded so every operand's
/// index fits the kernels' 32-bit strides and the operands of one shape stay within a few GiB.
/// </summary>
internal readonly record struct GemmShape(int M, int N, int K)
{
    public const int MaxDimension = 1 << 16;

    /// <summary>Largest operand, in elements (1 GiB of floats).</summary>
    public const long MaxElements = 1L << 28;

    /// <summary>Operations of one product: a multiply and an add per term.</summary>
    public double Operations => 2.0 * M * N * K;

    public static GemmShape Parse(string text)
    {
        string[] parts = text.Split('x');
        var dims = new int[3];
        if (parts.Length != 3)
        {
            throw new CliException($"--shape '{text}' must be MxNxK (e.g. 1024x768x3072)");
        }

        for (int i = 0; i < 3; i++)
        {
            if (!int.TryParse(parts[i], NumberStyles.None, CultureInfo.InvariantCulture, out dims[i]) || dims[i] < 1 || dims[i] > MaxDimension)
            {
                throw new CliException($"--shape '{text}': '{parts[i]}' is not a dimension from 1 to {MaxDimension}");
            }
        }

        var shape = new GemmShape(dims[0], dims[1], dims[2]);
        long largest = Math.Max((long)shape.M * shape.K, Math.Max((long)shape.K * shape.N, (long)shape.M * shape.N));
        if (largest > MaxElements)
        {
            throw new CliException($"--shape '{text}': an operand of {largest} elements is more than {MaxElements}");
        }

        return shape;
    }

    public override string ToString() => string.Create(CultureInfo.InvariantCulture, $"{M}x{N}x{K}");
}
