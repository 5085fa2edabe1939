using Tessera.Kernels.Core;
using Tessera.Tensors;

namespace Tessera.Kernels.Quantization;

/// <summary>
/// QLinearConv (opset 10): the int32 convolution of (x - x_zero_point) and (w - w_zero_point) plus the optional int32
/// bias B, requantized in the GEMM's epilogue with x_scale · w_scale / y_scale (w per tensor or per output channel).
/// </summary>
internal sealed unsafe class QLinearConvKernel : IKernel
{
    private readonly IntegerConv _conv;

    public QLinearConvKernel(KernelInfo info) => _conv = new IntegerConv(info, 3);

    public void Compute(KernelContext context)
    {
        var x = context.RequiredInput(0, "x");
        var w = context.RequiredInput(3, "w");
        var yZero = context.RequiredInput(7, "y_zero_point");
        var bias = context.Input(8);
        var (geometry, shape) = _conv.Shape(x, w);
        int m = w.Shape[0];
        var (min, max) = QuantValues.Range(yZero.DataType);
        float xScale = QLinearMatMulKernel.ScalarScale(context.RequiredInput(1, "x_scale"), "x_scale");
        float yScale = QLinearMatMulKernel.ScalarScale(context.RequiredInput(6, "y_scale"), "y_scale");
        var wScale = QuantValues.PerColumn(QuantValues.Floats(context.RequiredInput(4, "w_scale"), "QLinearConv w_scale"), m, "QLinearConv w_scale");
        var multiplier = new float[m];
        for (int i = 0; i < m; i++) multiplier[i] = xScale * wScale[i] / yScale;
        if (bias is not null && (bias.DataType != DataType.Int32 || bias.Length != m))
        {
            throw new KernelException($"QLinearConv bias must be int32 of {m} values, got {bias}");
        }

        int xZero = ConvIntegerKernel.XZeroPoint(x, context.RequiredInput(2, "x_zero_point"), "QLinearConv");
        var y = context.AllocateOutput(0, yZero.DataType, shape);
        if (y.Length == 0) return;
        var output = new QgemmOutput
        {
            Kind = QgemmOutputKind.Requantize,
            Data = y.Pointer,
            AZero = xZero + QgemmMatrixRows.Shift(x.DataType == DataType.Int8),
            BZero = IntegerMatMul.BZeroPoints(w, context.RequiredInput(5, "w_zero_point"), m, "QLinearConv"),
            ColumnSums = [],
            Scale = multiplier,
            IntBias = bias?.ToArray<int>(),
            YZero = QuantValues.Scalar(yZero, "QLinearConv y_zero_point"),
            YMin = min,
            YMax = max,
        };

        _conv.Run(x, w, geometry, xZero, output, 1, context.Parallel);
        GC.KeepAlive(y);
    }
}
