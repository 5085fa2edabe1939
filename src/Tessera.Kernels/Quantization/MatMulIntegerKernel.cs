using Tessera.Kernels.Core;
using Tessera.Tensors;

namespace Tessera.Kernels.Quantization;

/// <summary>MatMulInteger (opset 10): (A - a_zero_point) · (B - b_zero_point) as exact int32, A and B uint8 or int8; B's zero point per tensor or per column.</summary>
internal sealed unsafe class MatMulIntegerKernel : IKernel
{
    private readonly IntegerMatMul _product;

    public MatMulIntegerKernel(KernelInfo info) => _product = new IntegerMatMul("MatMulInteger", info.ConstantInput(1));

    public void Compute(KernelContext context)
    {
        var a = context.RequiredInput(0, "A");
        var b = context.RequiredInput(1, "B");
        var shape = _product.Shape(a, b);
        var output = new QgemmOutput
        {
            Kind = QgemmOutputKind.Int32,
            AZero = IntegerMatMul.AZeroPoint(a, context.Input(2), "MatMulInteger"),
            BZero = IntegerMatMul.BZeroPoints(b, context.Input(3), shape.N, "MatMulInteger"),
            ColumnSums = [],
        };

        var y = context.AllocateOutput(0, DataType.Int32, shape.OutputShape);
        if (y.Length == 0) return;
        if (shape.K == 0)
        {
            y.Bytes.Clear();
            return;
        }

        _product.Run(a, b, shape, output with { Data = y.Pointer, RowStride = shape.N, ColStride = 1 }, sizeof(int), context.Parallel);
        GC.KeepAlive(a);
        GC.KeepAlive(b);
        GC.KeepAlive(y);
    }
}
