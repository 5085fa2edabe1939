using Tessera.Kernels.Core;
using Tessera.Tensors;

namespace Tessera.Kernels.Elementwise;

/// <summary>A broadcasting logical operator on two bool tensors.</summary>
internal sealed class LogicalKernel<TOp>(KernelInfo info, TOp op) : IKernel
    where TOp : struct, IBinarySpanOperator<byte, byte, byte>
{
    private readonly string _opType = info.OpType;
    private readonly LegacyBroadcast? _legacy = LegacyBroadcast.For(info);
    private readonly BroadcastCache _broadcast = new();

    public void Compute(KernelContext context)
    {
        var a = context.RequiredInput(0);
        var b = context.RequiredInput(1);
        if (a.DataType != DataType.Bool || b.DataType != DataType.Bool)
        {
            throw new KernelException($"{_opType} needs bool inputs, got {DataTypes.Name(a.DataType)} and {DataTypes.Name(b.DataType)}");
        }

        if (_legacy is not null)
        {
            b = _legacy.Align(_opType, a, b);
        }

        var output = context.AllocateOutput(0, DataType.Bool, _broadcast.OutputShape(_opType, a.Shape, b.Shape));
        BinaryDriver.Run<byte, byte, byte, TOp>(op, a, b, output, context.Parallel, cache: _broadcast);
    }
}
