using System.Numerics;
using Tessera.Kernels.Core;
using Tessera.Tensors;

namespace Tessera.Kernels.Elementwise;

/// <summary>A unary operator on any numeric tensor (bfloat16 through float).</summary>
internal sealed class NumericUnaryKernel<TOp>(string opType, TOp op) : IKernel
    where TOp : struct, INumericUnaryOperator
{
    public void Compute(KernelContext context)
    {
        var x = context.RequiredInput(0);
        var y = context.AllocateOutput(0, x.DataType, x.Shape);
        if (x.DataType == DataType.BFloat16)
        {
            var wide = Tensor.Allocate(DataType.Float32, x.Shape);
            TypeDispatch.Numeric(DataType.Float32, new Action(op, BFloat16Widening.ToFloat(x), wide, context.Parallel));
            BFloat16Widening.Narrow(wide, y);
            return;
        }

        if (!TypeDispatch.Numeric(x.DataType, new Action(op, x, y, context.Parallel)))
        {
            throw ElementTypes.Unsupported(opType, x.DataType);
        }
    }

    private readonly struct Action(TOp op, Tensor x, Tensor y, ParallelRunner parallel) : INumericTypeAction
    {
        public void Invoke<T>() where T : unmanaged, INumber<T> =>
            UnaryDriver.Run<T, T, NumericUnary<T, TOp>>(new NumericUnary<T, TOp>(op), x, y, parallel);
    }
}
