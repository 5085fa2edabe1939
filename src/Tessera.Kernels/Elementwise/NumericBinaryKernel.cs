using System.Numerics;
using Tessera.Kernels.Core;
using Tessera.Tensors;

namespace Tessera.Kernels.Elementwise;

/// <summary>
/// A binary operator on numeric tensors with numpy broadcasting (or the pre-opset-7 rule). With
/// <c>unidirectional</c> (PRelu) the second input must broadcast to the first's shape.
/// </summary>
internal sealed class NumericBinaryKernel<TOp>(KernelInfo info, TOp op, bool unidirectional = false) : IKernel
    where TOp : struct, INumericBinaryOperator
{
    private readonly string _opType = info.OpType;
    private readonly LegacyBroadcast? _legacy = unidirectional ? null : LegacyBroadcast.For(info);
    private readonly BroadcastCache _broadcast = new();
    private readonly bool _channelSlope = unidirectional && info.OpsetVersion < 7;

    public void Compute(KernelContext context)
    {
        var a = context.RequiredInput(0);
        var b = context.RequiredInput(1);
        ElementTypes.RequireSameType(_opType, a, b);
        if (_legacy is not null)
        {
            b = _legacy.Align(_opType, a, b);
        }

        int[] shape = unidirectional ? UnidirectionalShape(a, ref b) : _broadcast.OutputShape(_opType, a.Shape, b.Shape);
        var output = context.AllocateOutput(0, a.DataType, shape);
        if (a.DataType == DataType.BFloat16)
        {
            var wide = Tensor.Allocate(DataType.Float32, shape);
            TypeDispatch.Numeric(DataType.Float32, new Action(op, BFloat16Widening.ToFloat(a), BFloat16Widening.ToFloat(b), wide, context.Parallel, null));
            BFloat16Widening.Narrow(wide, output);
            return;
        }

        if (!TypeDispatch.Numeric(a.DataType, new Action(op, a, b, output, context.Parallel, _broadcast)))
        {
            throw ElementTypes.Unsupported(_opType, a.DataType);
        }
    }

    private int[] UnidirectionalShape(Tensor x, ref Tensor slope)
    {
        // Before opset 7 a 1-D slope of X's channel count applied per channel (axis 1).
        if (_channelSlope && slope.Rank == 1 && x.Rank >= 2 && slope.Length == x.Shape[1] && x.Shape[^1] != slope.Length)
        {
            var shape = new int[x.Rank - 1];
            Array.Fill(shape, 1);
            shape[0] = slope.Length;
            slope = slope.Reshape(shape);
        }

        int[] result = BroadcastPlan.OutputShape(_opType, x.Shape, slope.Shape);
        if (!ShapeMath.SameShape(result, x.Shape))
        {
            throw new KernelException($"{_opType}: shape {ShapeMath.Format(slope.Shape)} cannot broadcast unidirectionally to {ShapeMath.Format(x.Shape)}");
        }

        return result;
    }

    private readonly struct Action(TOp op, Tensor a, Tensor b, Tensor output, ParallelRunner parallel, BroadcastCache? cache) : INumericTypeAction
    {
        public void Invoke<T>() where T : unmanaged, INumber<T> =>
            BinaryDriver.Run<T, T, T, NumericBinary<T, TOp>>(new NumericBinary<T, TOp>(op), a, b, output, parallel, cache: cache);
    }
}
