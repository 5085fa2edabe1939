using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using Tessera.Kernels.Core;
using Tessera.Tensors;

namespace Tessera.Kernels.Elementwise;

/// <summary>Where(condition, X, Y) with three-way broadcasting, for every element type including strings.</summary>
internal sealed class WhereKernel : IKernel
{
    private readonly BroadcastCache _broadcast = new();

    public void Compute(KernelContext context)
    {
        var condition = context.RequiredInput(0);
        var x = context.RequiredInput(1);
        var y = context.RequiredInput(2);
        if (condition.DataType != DataType.Bool)
        {
            throw new KernelException($"Where needs a bool condition, got {DataTypes.Name(condition.DataType)}");
        }

        ElementTypes.RequireSameType("Where", x, y);
        int[] shape = _broadcast.OutputShape("Where", condition.Shape, x.Shape, y.Shape);
        var output = context.AllocateOutput(0, x.DataType, shape);
        if (output.Length == 0)
        {
            return;
        }

        var plan = _broadcast.Plan(shape, condition.Shape, x.Shape, y.Shape);
        if (x.DataType == DataType.String)
        {
            Select<string>(plan, condition.Span<byte>(), x.Strings, y.Strings, output.Strings, 0, plan.OuterCount);
            return;
        }

        int rowChunk = Math.Max(1, UnaryDriver.CheapChunk / plan.InnerLength);
        if (context.Parallel.Degree == 1 || plan.OuterCount < 2 * rowChunk)
        {
            SelectBySize(plan, condition, x, y, output, 0, plan.OuterCount);
        }
        else
        {
            var body = new Body(plan, condition, x, y, output);
            context.Parallel.ForRange(plan.OuterCount, rowChunk, ref body);
        }
    }

    // Selection only moves bits, so elements of equal size share one instantiation.
    private static void SelectBySize(BroadcastPlan plan, Tensor condition, Tensor x, Tensor y, Tensor output, int start, int end)
    {
        var c = condition.Span<byte>();
        switch (x.ElementSize)
        {
            case 1: Select<byte>(plan, c, x.Bytes, y.Bytes, output.Bytes, start, end); break;
            case 2: Select(plan, c, MemoryMarshal.Cast<byte, ushort>(x.Bytes), MemoryMarshal.Cast<byte, ushort>(y.Bytes), MemoryMarshal.Cast<byte, ushort>(output.Bytes), start, end); break;
            case 4: Select(plan, c, MemoryMarshal.Cast<byte, uint>(x.Bytes), MemoryMarshal.Cast<byte, uint>(y.Bytes), MemoryMarshal.Cast<byte, uint>(output.Bytes), start, end); break;
            case 8: Select(plan, c, MemoryMarshal.Cast<byte, ulong>(x.Bytes), MemoryMarshal.Cast<byte, ulong>(y.Bytes), MemoryMarshal.Cast<byte, ulong>(output.Bytes), start, end); break;
            default: throw ElementTypes.Unsupported("Where", x.DataType);
        }
    }

    private static void Select<T>(BroadcastPlan plan, ReadOnlySpan<byte> c, ReadOnlySpan<T> x, ReadOnlySpan<T> y, Span<T> d, int start, int end)
    {
        int inner = plan.InnerLength;
        int sc = plan.InnerStride(0), sx = plan.InnerStride(1), sy = plan.InnerStride(2);
        Span<int> index = stackalloc int[Math.Max(1, plan.OuterRank)];
        Span<int> offsets = stackalloc int[3];
        plan.Seek(start, index, offsets);
        for (int row = start; row < end; row++)
        {
            var cr = c[offsets[0]..];
            var xr = x[offsets[1]..];
            var yr = y[offsets[2]..];
            var dr = d.Slice(row * inner, inner);
            if (sc == 0)
            {
                // One condition value for the whole run: copy or fill from the chosen side.
                bool takeX = cr[0] != 0;
                var source = takeX ? xr : yr;
                if ((takeX ? sx : sy) == 1) source[..inner].CopyTo(dr);
                else dr.Fill(source[0]);
            }
            else if (typeof(T) == typeof(uint))
            {
                WhereSelect.Run(cr[..inner], AsUInt(xr), sx, AsUInt(yr), sy, AsUInt(dr));
            }
            else if (sx == 1 && sy == 1)
            {
                for (int j = 0; j < dr.Length; j++) dr[j] = cr[j] != 0 ? xr[j] : yr[j];
            }
            else
            {
                for (int j = 0; j < dr.Length; j++) dr[j] = cr[j] != 0 ? xr[j * sx] : yr[j * sy];
            }

            plan.Advance(index, offsets);
        }
    }

    // Only called when T is uint (checked by the caller), so the reinterpretation is exact.
    private static Span<uint> AsUInt<T>(ReadOnlySpan<T> span) =>
        MemoryMarshal.CreateSpan(ref Unsafe.As<T, uint>(ref MemoryMarshal.GetReference(span)), span.Length);

    private static Span<uint> AsUInt<T>(Span<T> span) =>
        MemoryMarshal.CreateSpan(ref Unsafe.As<T, uint>(ref MemoryMarshal.GetReference(span)), span.Length);

    private readonly struct Body(BroadcastPlan plan, Tensor condition, Tensor x, Tensor y, Tensor output) : IRangeBody
    {
        public void Invoke(int start, int end) => SelectBySize(plan, condition, x, y, output, start, end);
    }
}
