using System.Numerics;
using Tessera.Kernels.Core;
using Tessera.Tensors;

namespace Tessera.Kernels.Elementwise;

/// <summary>A broadcasting comparison of two numeric (or, for Equal, bool) tensors producing a bool tensor.</summary>
internal sealed class ComparisonKernel<TOp>(KernelInfo info, TOp op, bool allowBool) : IKernel
    where TOp : struct, IComparisonOperator
{
    private readonly string _opType = info.OpType;
    private readonly LegacyBroadcast? _legacy = LegacyBroadcast.For(info);
    private readonly BroadcastCache _broadcast = new();

    public void Compute(KernelContext context)
    {
        var a = context.RequiredInput(0);
        var b = context.RequiredInput(1);
        ElementTypes.RequireSameType(_opType, a, b);
        if (_legacy is not null)
        {
            b = _legacy.Align(_opType, a, b);
        }

        int[] shape = _broadcast.OutputShape(_opType, a.Shape, b.Shape);
        var output = context.AllocateOutput(0, DataType.Bool, shape);
        if (a.DataType == DataType.BFloat16)
        {
            a = BFloat16Widening.ToFloat(a);
            b = BFloat16Widening.ToFloat(b);
        }

        if (!TypeDispatch.Numeric(a.DataType, new Action(op, a, b, output, context.Parallel, _broadcast), boolAsByte: allowBool))
        {
            throw ElementTypes.Unsupported(_opType, a.DataType);
        }
    }

    private readonly struct Action(TOp op, Tensor a, Tensor b, Tensor output, ParallelRunner parallel, BroadcastCache cache) : INumericTypeAction
    {
        public void Invoke<T>() where T : unmanaged, INumber<T> =>
            BinaryDriver.Run<T, T, byte, Comparison<T, TOp>>(new Comparison<T, TOp>(op), a, b, output, parallel, cache: cache);
    }
}
