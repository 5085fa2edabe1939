using Tessera.Kernels.Core;
using Tessera.Tensors;

namespace Tessera.Kernels.Quantization;

/// <summary>
/// QLinearMatMul (opset 10): the int32 product of (A - a_zero_point) and (B - b_zero_point), requantized in the GEMM's
/// epilogue to y = saturate(round(sum · a_scale · b_scale / y_scale) + y_zero_point). A per tensor; B per tensor or per
/// column; y per tensor, uint8 or int8.
/// </summary>
internal sealed unsafe class QLinearMatMulKernel : IKernel
{
    private readonly IntegerMatMul _product;

    public QLinearMatMulKernel(KernelInfo info) => _product = new IntegerMatMul("QLinearMatMul", info.ConstantInput(3));

    public void Compute(KernelContext context)
    {
        var a = context.RequiredInput(0, "a");
        var b = context.RequiredInput(3, "b");
        var yZero = context.RequiredInput(7, "y_zero_point");
        var shape = _product.Shape(a, b);
        var (min, max) = QuantValues.Range(yZero.DataType);
        float aScale = ScalarScale(context.RequiredInput(1, "a_scale"), "a_scale");
        float yScale = ScalarScale(context.RequiredInput(6, "y_scale"), "y_scale");
        var bScale = QuantValues.PerColumn(QuantValues.Floats(context.RequiredInput(4, "b_scale"), "QLinearMatMul b_scale"), shape.N, "QLinearMatMul b_scale");
        var multiplier = new float[shape.N];
        for (int n = 0; n < multiplier.Length; n++) multiplier[n] = aScale * bScale[n] / yScale;

        var y = context.AllocateOutput(0, yZero.DataType, shape.OutputShape);
        if (y.Length == 0) return;
        var output = new QgemmOutput
        {
            Kind = QgemmOutputKind.Requantize,
            Data = y.Pointer,
            RowStride = shape.N,
            ColStride = 1,
            AZero = IntegerMatMul.AZeroPoint(a, context.RequiredInput(2, "a_zero_point"), "QLinearMatMul"),
            BZero = IntegerMatMul.BZeroPoints(b, context.RequiredInput(5, "b_zero_point"), shape.N, "QLinearMatMul"),
            ColumnSums = [],
            Scale = multiplier,
            YZero = QuantValues.Scalar(yZero, "QLinearMatMul y_zero_point"),
            YMin = min,
            YMax = max,
        };

        _product.Run(a, b, shape, output, 1, context.Parallel);
        GC.KeepAlive(a);
        GC.KeepAlive(b);
        GC.KeepAlive(y);
    }

    public static float ScalarScale(Tensor scale, string role)
    {
        var values = QuantValues.Floats(scale, role);
        return values.Length == 1 ? values[0] : throw new KernelException($"{role} must be a scalar, got {ShapeMath.Format(scale.Shape)}");
    }
}
