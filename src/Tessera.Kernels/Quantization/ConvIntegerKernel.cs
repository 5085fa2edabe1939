using Tessera.Kernels.Core;
using Tessera.Tensors;

namespace Tessera.Kernels.Quantization;

/// <summary>ConvInteger (opset 10): Conv of (x - x_zero_point) and (w - w_zero_point) as exact int32; w's zero point per tensor or per output channel.</summary>
internal sealed unsafe class ConvIntegerKernel : IKernel
{
    private readonly IntegerConv _conv;

    public ConvIntegerKernel(KernelInfo info) => _conv = new IntegerConv(info, 1);

    public void Compute(KernelContext context)
    {
        var x = context.RequiredInput(0, "x");
        var w = context.RequiredInput(1, "w");
        var (geometry, shape) = _conv.Shape(x, w);
        int xZero = XZeroPoint(x, context.Input(2), "ConvInteger");
        var output = new QgemmOutput
        {
            Kind = QgemmOutputKind.Int32,
            AZero = xZero + QgemmMatrixRows.Shift(x.DataType == DataType.Int8),
            BZero = IntegerMatMul.BZeroPoints(w, context.Input(3), w.Shape[0], "ConvInteger"),
            ColumnSums = [],
        };

        var y = context.AllocateOutput(0, DataType.Int32, shape);
        if (y.Length == 0) return;
        _conv.Run(x, w, geometry, xZero, output with { Data = y.Pointer }, sizeof(int), context.Parallel);
        GC.KeepAlive(y);
    }

    /// <summary>x's raw per-tensor zero point, checked against x's type.</summary>
    public static int XZeroPoint(Tensor x, Tensor? zeroPoint, string opType)
    {
        if (zeroPoint is not null && zeroPoint.DataType != x.DataType)
        {
            throw new KernelException($"{opType} x is {DataTypes.Name(x.DataType)} but its zero point is {DataTypes.Name(zeroPoint.DataType)}");
        }

        return QuantValues.Scalar(zeroPoint, opType + " x zero point");
    }
}
