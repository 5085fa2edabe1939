using System.Globalization;
using Tessera.Tensors;

namespace Tessera.Cli.Conformance;

/// <summary>Compares a computed tensor with an expected one: |got - expected| &lt;= atol + rtol * |expected|, NaN equal to NaN.</summary>
public static class TensorComparer
{
    /// <summary>Null when they agree; otherwise a one-line description of the shape mismatch or the worst element.</summary>
    public static string? Compare(Tensor got, Tensor expected, double atol, double rtol)
    {
        if (got.DataType != expected.DataType)
        {
            return $"dtype {DataTypes.Name(got.DataType)}, expected {DataTypes.Name(expected.DataType)}";
        }

        if (!ShapeMath.SameShape(got.Shape, expected.Shape))
        {
            return $"shape {ShapeMath.Format(got.Shape)}, expected {ShapeMath.Format(expected.Shape)}";
        }

        if (got.DataType == DataType.String)
        {
            for (int i = 0; i < got.Length; i++)
            {
                if (got.Strings[i] != expected.Strings[i])
                {
                    return $"element {Index(expected.Shape, i)} is '{got.Strings[i]}', expected '{expected.Strings[i]}'";
                }
            }

            return null;
        }

        int worst = -1;
        double worstExcess = 0;
        for (int i = 0; i < got.Length; i++)
        {
            double g = ElementAsDouble(got, i);
            double e = ElementAsDouble(expected, i);
            if (double.IsNaN(g) && double.IsNaN(e))
            {
                continue;
            }

            if (g == e)
            {
                continue; // also covers equal infinities
            }

            double excess = Math.Abs(g - e) - (atol + rtol * Math.Abs(e));
            if (double.IsNaN(excess) || excess > 0)
            {
                if (worst < 0 || double.IsNaN(excess) || excess > worstExcess)
                {
                    worst = i;
                    worstExcess = double.IsNaN(excess) ? double.PositiveInfinity : excess;
                }
            }
        }

        if (worst < 0)
        {
            return null;
        }

        double gw = ElementAsDouble(got, worst);
        double ew = ElementAsDouble(expected, worst);
        return string.Create(CultureInfo.InvariantCulture,
            $"worst element {Index(expected.Shape, worst)}: got {gw:G9}, expected {ew:G9} (|diff| {Math.Abs(gw - ew):G3})");
    }

    /// <summary>Largest absolute and relative differences; <see cref="DiffStats.None"/> when types or shapes differ.</summary>
    public static DiffStats Measure(Tensor got, Tensor expected, double atol, double rtol)
    {
        // Where rtol * |expected| < atol the absolute tolerance decides, and ratios to tiny values say nothing.
        double relativeFrom = rtol > 0 ? atol / rtol : atol;
        if (got.DataType != expected.DataType || !ShapeMath.SameShape(got.Shape, expected.Shape))
        {
            return DiffStats.None;
        }

        if (got.DataType == DataType.String)
        {
            return new DiffStats(0, 0);
        }

        double maxAbs = 0, maxRel = 0;
        for (int i = 0; i < got.Length; i++)
        {
            double g = ElementAsDouble(got, i);
            double e = ElementAsDouble(expected, i);
            if (g == e || (double.IsNaN(g) && double.IsNaN(e)))
            {
                continue;
            }

            double diff = Math.Abs(g - e);
            if (double.IsNaN(diff))
            {
                diff = double.PositiveInfinity; // NaN or infinity against a finite value
            }

            maxAbs = Math.Max(maxAbs, diff);
            if (Math.Abs(e) >= relativeFrom)
            {
                maxRel = Math.Max(maxRel, double.IsInfinity(diff) ? diff : diff / Math.Abs(e));
            }
        }

        return new DiffStats(maxAbs, maxRel);
    }

    public static double ElementAsDouble(Tensor t, int i) => t.DataType switch
    {
        DataType.Float32 => t.Span<float>()[i],
        DataType.Float64 => t.Span<double>()[i],
        DataType.Float16 => (double)t.Span<Half>()[i],
        DataType.BFloat16 => t.Span<BFloat16>()[i].ToSingle(),
        DataType.Int64 => t.Span<long>()[i],
        DataType.Int32 => t.Span<int>()[i],
        DataType.Int16 => t.Span<short>()[i],
        DataType.Int8 => t.Span<sbyte>()[i],
        DataType.UInt64 => t.Span<ulong>()[i],
        DataType.UInt32 => t.Span<uint>()[i],
        DataType.UInt16 => t.Span<ushort>()[i],
        DataType.UInt8 or DataType.Bool => t.Span<byte>()[i],
        _ => throw new NotSupportedException($"cannot compare {DataTypes.Name(t.DataType)} tensors"),
    };

    private static string Index(int[] shape, int flat)
    {
        var index = new int[shape.Length];
        for (int d = shape.Length - 1; d >= 0; d--)
        {
            index[d] = shape[d] == 0 ? 0 : flat % shape[d];
            flat = shape[d] == 0 ? 0 : flat / shape[d];
        }

        return ShapeMath.Format(index);
    }
}
