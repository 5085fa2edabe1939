using System.Numerics;
using Tessera.Kernels.Core;
using Tessera.Tensors;

namespace Tessera.Kernels.Layout;

/// <summary>Range-11: start, start+delta, ... below limit (above it for negative delta); max(ceil((limit-start)/delta), 0) values.</summary>
internal sealed class RangeKernel : IKernel
{
    public static IKernel Create(KernelInfo info) => new RangeKernel();

    public void Compute(KernelContext context)
    {
        var start = context.RequiredInput(0, "start");
        var limit = context.RequiredInput(1, "limit");
        var delta = context.RequiredInput(2, "delta");
        if (limit.DataType != start.DataType || delta.DataType != start.DataType)
        {
            throw new KernelException($"Range: start, limit and delta must share a type, got {start}, {limit}, {delta}");
        }

        if (start.Length != 1 || limit.Length != 1 || delta.Length != 1)
        {
            throw new KernelException($"Range: start, limit and delta must be scalars, got {start}, {limit}, {delta}");
        }

        switch (start.DataType)
        {
            case DataType.Float32: Floating<float>(context, start, limit, delta); break;
            case DataType.Float64: Floating<double>(context, start, limit, delta); break;
            case DataType.Int16: Integer<short>(context, start, limit, delta); break;
            case DataType.Int32: Integer<int>(context, start, limit, delta); break;
            case DataType.Int64: Integer<long>(context, start, limit, delta); break;
            default: throw new KernelException($"Range does not support {DataTypes.Name(start.DataType)}");
        }
    }

    private static void Floating<T>(KernelContext context, Tensor start, Tensor limit, Tensor delta)
        where T : unmanaged, IFloatingPoint<T>
    {
        double s = double.CreateChecked(start.Span<T>()[0]);
        double d = double.CreateChecked(delta.Span<T>()[0]);
        double l = double.CreateChecked(limit.Span<T>()[0]);
        if (d == 0 || !double.IsFinite(s) || !double.IsFinite(d) || !double.IsFinite(l))
        {
            throw new KernelException("Range: start, limit and delta must be finite and delta non-zero");
        }

        var values = Allocate<T>(context, Math.Max(Math.Ceiling((l - s) / d), 0));
        for (int i = 0; i < values.Length; i++)
        {
            values[i] = T.CreateChecked(s + (i * d));
        }
    }

    private static void Integer<T>(KernelContext context, Tensor start, Tensor limit, Tensor delta)
        where T : unmanaged, IBinaryInteger<T>
    {
        long s = long.CreateChecked(start.Span<T>()[0]);
        long d = long.CreateChecked(delta.Span<T>()[0]);
        Int128 diff = (Int128)long.CreateChecked(limit.Span<T>()[0]) - s;
        if (d == 0)
        {
            throw new KernelException("Range: delta must not be 0");
        }

        Int128 count = diff / d;
        if (diff % d != 0 && (diff > 0) == (d > 0))
        {
            count++;
        }

        var values = Allocate<T>(context, (double)Int128.Max(count, 0));
        for (int i = 0; i < values.Length; i++)
        {
            values[i] = T.CreateTruncating(s + ((long)i * d));
        }
    }

    private static Span<T> Allocate<T>(KernelContext context, double count)
        where T : unmanaged
    {
        if (count > int.MaxValue)
        {
            throw new KernelException($"Range: {count} values are too many");
        }

        var output = context.AllocateOutput(0, DataTypes.FromClrType(typeof(T)), [(int)count]);
        return output.Span<T>();
    }
}
