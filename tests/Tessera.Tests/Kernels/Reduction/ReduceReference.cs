using System.Numerics;

namespace Tessera.Tests.Kernels.Reduction;

/// <summary>A plain element-by-element reduction over an axis mask, for checking the optimised passes.</summary>
internal static class ReduceReference
{
    /// <summary>The reduced values and, per output, the sum of magnitudes that bounds rounding error.</summary>
    public static (T[] Values, double[] Magnitude) Compute<T>(string op, T[] data, int[] shape, bool[] reduced)
        where T : unmanaged, INumber<T>
    {
        int rank = shape.Length;
        var outStrides = new int[rank];
        int outLength = 1;
        long count = 1;
        for (int d = rank - 1; d >= 0; d--)
        {
            if (reduced[d])
            {
                count *= shape[d];
            }
            else
            {
                outStrides[d] = outLength;
                outLength *= shape[d];
            }
        }

        T identity = op switch
        {
            "ReduceMax" => T.CreateSaturating(double.NegativeInfinity),
            "ReduceMin" => T.CreateSaturating(double.PositiveInfinity),
            "ReduceProd" => T.One,
            _ => T.Zero,
        };
        var acc = Enumerable.Repeat(identity, outLength).ToArray();
        var magnitude = new double[outLength];
        var coords = new int[rank];
        for (int i = 0; i < data.Length; i++)
        {
            int rest = i, o = 0;
            for (int d = rank - 1; d >= 0; d--)
            {
                coords[d] = rest % shape[d];
                rest /= shape[d];
                o += coords[d] * outStrides[d];
            }

            T x = data[i];
            acc[o] = op switch
            {
                "ReduceMax" => T.Max(acc[o], x),
                "ReduceMin" => T.Min(acc[o], x),
                "ReduceProd" => acc[o] * x,
                "ReduceSumSquare" or "ReduceL2" => acc[o] + x * x,
                _ => acc[o] + x,
            };
            double dx = double.CreateTruncating(x);
            magnitude[o] += op is "ReduceSumSquare" or "ReduceL2" ? dx * dx : Math.Abs(dx);
        }

        bool isFloat = typeof(T) == typeof(double) || typeof(T) == typeof(float);
        for (int o = 0; o < outLength; o++)
        {
            if (op == "ReduceMean")
            {
                acc[o] = isFloat
                    ? acc[o] / T.CreateChecked(count)
                    : count == 0 ? T.Zero : T.CreateTruncating(double.CreateTruncating(acc[o]) / count);
                magnitude[o] /= Math.Max(count, 1);
            }
            else if (op == "ReduceL2")
            {
                acc[o] = T.CreateTruncating(Math.Sqrt(double.CreateTruncating(acc[o])));
                magnitude[o] = Math.Sqrt(magnitude[o]);
            }
            else if (op is "ReduceMax" or "ReduceMin" or "ReduceProd")
            {
                magnitude[o] = Math.Abs(double.CreateTruncating(acc[o]));
            }
        }

        return (acc, magnitude);
    }
}
