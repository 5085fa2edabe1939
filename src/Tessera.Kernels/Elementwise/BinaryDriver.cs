using Tessera.Kernels.Core;
using Tessera.Tensors;

namespace Tessera.Kernels.Elementwise;

/// <summary>
/// Applies a binary operator to two inputs that each broadcast to the output's shape. Same-shape and
/// scalar-operand cases are single runs; anything else walks the output one innermost run at a time.
/// </summary>
internal static class BinaryDriver
{
    public static void Run<TX, TY, TOut, TOp>(TOp op, Tensor a, Tensor b, Tensor output, ParallelRunner parallel,
        int minChunk = UnaryDriver.CheapChunk, BroadcastCache? cache = null)
        where TX : unmanaged
        where TY : unmanaged
        where TOut : unmanaged
        where TOp : struct, IBinarySpanOperator<TX, TY, TOut>
    {
        int n = output.Length;
        if (n == 0)
        {
            return;
        }

        // An input that broadcasts to the output with as many elements has the output's layout.
        int form = a.Length == n && b.Length == n ? 0 : a.Length == n && b.Length == 1 ? 1 : a.Length == 1 && b.Length == n ? 2 : 3;
        if (form < 3)
        {
            if (parallel.Degree == 1 || n < 2 * minChunk)
            {
                RunFlat<TX, TY, TOut, TOp>(op, form, a, b, output, 0, n);
            }
            else
            {
                var body = new FlatBody<TX, TY, TOut, TOp>(op, form, a, b, output);
                parallel.ForRange(n, minChunk, ref body);
            }

            return;
        }

        var plan = cache?.Plan(output.Shape, a.Shape, b.Shape) ?? new BroadcastPlan(output.Shape, a.Shape, b.Shape);
        int rows = plan.OuterCount;
        int rowChunk = Math.Max(1, minChunk / Math.Max(1, plan.InnerLength));
        if (parallel.Degree == 1 || rows < 2 * rowChunk)
        {
            RunRows<TX, TY, TOut, TOp>(op, plan, a, b, output, 0, rows);
        }
        else
        {
            var body = new RowsBody<TX, TY, TOut, TOp>(op, plan, a, b, output);
            parallel.ForRange(rows, rowChunk, ref body);
        }
    }

    private static void RunFlat<TX, TY, TOut, TOp>(TOp op, int form, Tensor a, Tensor b, Tensor output, int start, int end)
        where TX : unmanaged
        where TY : unmanaged
        where TOut : unmanaged
        where TOp : struct, IBinarySpanOperator<TX, TY, TOut>
    {
        var x = a.Span<TX>();
        var y = b.Span<TY>();
        var d = output.Span<TOut>()[start..end];
        switch (form)
        {
            case 0:
                op.Invoke(x[start..end], y[start..end], d);
                break;
            case 1:
                op.Invoke(x[start..end], y[0], d);
                break;
            default:
                op.Invoke(x[0], y[start..end], d);
                break;
        }
    }

    private static void RunRows<TX, TY, TOut, TOp>(TOp op, BroadcastPlan plan, Tensor a, Tensor b, Tensor output, int startRow, int endRow)
        where TX : unmanaged
        where TY : unmanaged
        where TOut : unmanaged
        where TOp : struct, IBinarySpanOperator<TX, TY, TOut>
    {
        var x = a.Span<TX>();
        var y = b.Span<TY>();
        var d = output.Span<TOut>();
        int inner = plan.InnerLength;
        bool xRun = plan.InnerStride(0) != 0;
        bool yRun = plan.InnerStride(1) != 0;
        Span<int> index = stackalloc int[Math.Max(1, plan.OuterRank)];
        Span<int> offsets = stackalloc int[2];
        plan.Seek(startRow, index, offsets);
        for (int row = startRow; row < endRow; row++)
        {
            var dest = d.Slice(row * inner, inner);
            if (xRun && yRun)
            {
                op.Invoke(x.Slice(offsets[0], inner), y.Slice(offsets[1], inner), dest);
            }
            else if (xRun)
            {
                op.Invoke(x.Slice(offsets[0], inner), y[offsets[1]], dest);
            }
            else if (yRun)
            {
                op.Invoke(x[offsets[0]], y.Slice(offsets[1], inner), dest);
            }
            else
            {
                // Both operands repeat (variadic steps whose output is wider than either input).
                op.Invoke(x.Slice(offsets[0], 1), y[offsets[1]], dest[..1]);
                dest.Fill(dest[0]);
            }

            plan.Advance(index, offsets);
        }
    }

    private readonly struct FlatBody<TX, TY, TOut, TOp>(TOp op, int form, Tensor a, Tensor b, Tensor output) : IRangeBody
        where TX : unmanaged
        where TY : unmanaged
        where TOut : unmanaged
        where TOp : struct, IBinarySpanOperator<TX, TY, TOut>
    {
        public void Invoke(int start, int end) => RunFlat<TX, TY, TOut, TOp>(op, form, a, b, output, start, end);
    }

    private readonly struct RowsBody<TX, TY, TOut, TOp>(TOp op, BroadcastPlan plan, Tensor a, Tensor b, Tensor output) : IRangeBody
        where TX : unmanaged
        where TY : unmanaged
        where TOut : unmanaged
        where TOp : struct, IBinarySpanOperator<TX, TY, TOut>
    {
        public void Invoke(int start, int end) => RunRows<TX, TY, TOut, TOp>(op, plan, a, b, output, start, end);
    }
}
