using Tessera.Kernels.Core;
using Tessera.Kernels.Elementwise;
using Tessera.Kernels.Fused;
using Tessera.Tensors;

namespace Tessera.Kernels.Quantization;

/// <summary>
/// com.tessera QuantizedMatMul(X, x_scale, x_zero_point, W, w_scale, w_zero_point, bias?) → float32: X (float32, any
/// rank) times a constant 2-D int8/uint8 W, with X quantized to uint8 while the GEMM packs it (statically with the
/// given constant parameters, or with attribute dynamic=1 from X's range each time) and the exact int32 product
/// dequantized with x_scale · w_scale (per tensor or per column) plus the float bias in the epilogue. Graph passes
/// make it from DynamicQuantizeLinear → MatMulInteger → Cast → Mul and from Q → DQ → MatMul(DQ(W)) [+ bias]; the
/// residual-add fusion pass may add an eighth input "sum" (float32, added after the bias as FusedConv's; in the
/// epilogue when it has the product's shape, otherwise broadcast after the product as the Add it came from did), and the activation fusion pass an `activation` (as on FusedMatMul), applied to the finished rows:
/// Y = act(X·W + bias + sum).
/// </summary>
internal sealed unsafe class QuantizedMatMulKernel : IKernel
{
    private readonly ActivationQuantization _activation;
    private readonly QgemmPackedB _packed;
    private readonly int[] _bZero;
    private readonly float[] _wScale;
    private readonly float[]? _bias;
    private readonly float[] _scale;
    private readonly FusedActivation _fusedActivation;
    private int[] _outputShape = [];
    private Tensor? _broadcastProduct;

    // With several outputs (one product over the concatenated weights of products that read the same X): each
    // output's data, its equal share of W's columns.
    private readonly nint[]? _partData;
    private int[] _partShape = [];

    public QuantizedMatMulKernel(KernelInfo info)
    {
        _activation = ActivationQuantization.FromInputs(info, 1, 2);
        if (info.ConstantInput(3) is not { Rank: 2, DataType: DataType.UInt8 or DataType.Int8 } w)
        {
            throw new KernelException("QuantizedMatMul needs a constant 2-D uint8 or int8 W");
        }

        int n = w.Shape[1];
        _packed = QgemmPackedB.Pack(QgemmConfig.ForWeights(w.Pointer, w.Length, w.DataType == DataType.Int8), w.Pointer, w.Shape[0], n, n, 1, w.DataType == DataType.Int8);
        GC.KeepAlive(w);
        var wScale = info.ConstantInput(4) ?? throw new KernelException("QuantizedMatMul needs a constant w_scale");
        _wScale = QuantValues.PerColumn(QuantValues.Floats(wScale, "QuantizedMatMul w_scale"), n, "QuantizedMatMul w_scale");
        _bZero = IntegerMatMul.BZeroPoints(w, info.ConstantInput(5), n, "QuantizedMatMul");
        if (info.InputCount > 6 && info.ConstantInput(6) is { } bias)
        {
            _bias = bias.Length == n && bias.DataType == DataType.Float32 ? bias.ToArray<float>() : throw new KernelException($"QuantizedMatMul bias must be {n} float32 values");
        }

        _scale = new float[n];
        _fusedActivation = FusedActivation.FromAttributes(info);
        if (info.OutputCount > 1)
        {
            int width = n / info.OutputCount;
            if (n % info.OutputCount != 0 || width % QgemmConfig.Nr != 0)
            {
                throw new KernelException($"QuantizedMatMul with {info.OutputCount} outputs needs W's {n} columns in equal parts of a multiple of {QgemmConfig.Nr}");
            }

            if (!_fusedActivation.IsNone || info.InputCount > 7)
            {
                throw new KernelException("QuantizedMatMul with several outputs takes no activation and no sum");
            }

            _partData = new nint[info.OutputCount];
        }
    }

    public void Compute(KernelContext context)
    {
        var x = context.RequiredInput(0, "X");
        int k = _packed.K;
        if (x.DataType != DataType.Float32 || x.Rank == 0 || x.Shape[^1] != k)
        {
            throw new KernelException($"QuantizedMatMul X must be float32 [..., {k}], got {x}");
        }

        if (_outputShape.Length != x.Rank || !x.Shape.AsSpan(0, x.Rank - 1).SequenceEqual(_outputShape.AsSpan(0, x.Rank - 1)))
        {
            _outputShape = [.. x.Shape[..^1], _packed.N];
        }

        if (_partData is not null)
        {
            MultiplyParts(context, x);
            return;
        }

        var sum = context.Input(7);
        if (sum is not null && sum.DataType != DataType.Float32)
        {
            throw new KernelException($"QuantizedMatMul sum must be float32, got {DataTypes.Name(sum.DataType)}");
        }

        if (sum is null || sum.Shape.AsSpan().SequenceEqual(_outputShape))
        {
            var y = context.AllocateOutput(0, DataType.Float32, _outputShape);
            if (y.Length > 0) Multiply(x, y, sum, _fusedActivation.IsNone ? null : _fusedActivation, context.Parallel);
            return;
        }

        AddBroadcastSum(context, x, sum);
    }

    // The graph pass fuses an Add whose operands it cannot prove equal in shape (symbolic dimensions, as in BERT's
    // residual branches), so a sum of another shape is added as the Add would have: broadcast, after the product.
    private void AddBroadcastSum(KernelContext context, Tensor x, Tensor sum)
    {
        int[] shape;
        try
        {
            shape = ShapeMath.Broadcast(_outputShape, sum.Shape);
        }
        catch (ArgumentException e)
        {
            throw new KernelException($"QuantizedMatMul sum: {e.Message}");
        }

        var y = context.AllocateOutput(0, DataType.Float32, shape);
        if (y.Length == 0) return;
        bool inPlace = shape.AsSpan().SequenceEqual(_outputShape);
        if (!inPlace && (_broadcastProduct is null || !_broadcastProduct.Shape.AsSpan().SequenceEqual(_outputShape)))
        {
            _broadcastProduct = Tensor.Allocate(DataType.Float32, _outputShape);
        }

        var product = inPlace ? y : _broadcastProduct!;
        Multiply(x, product, null, null, context.Parallel);
        BinaryDriver.Run<float, float, float, NumericBinary<float, AddOperator>>(default, product, sum, y, context.Parallel);
        if (!_fusedActivation.IsNone)
        {
            int n = shape[^1];
            ActivationRows.Apply((float*)y.Pointer, y.Length / n, n, n, _fusedActivation, context.Parallel);
            GC.KeepAlive(y);
        }
    }

    private void MultiplyParts(KernelContext context, Tensor x)
    {
        int width = _packed.N / _partData!.Length;
        if (_partShape.Length != _outputShape.Length || !_outputShape.AsSpan(0, _outputShape.Length - 1).SequenceEqual(_partShape.AsSpan(0, _partShape.Length - 1)))
        {
            _partShape = [.. _outputShape[..^1], width];
        }

        long length = 0;
        for (int i = 0; i < _partData.Length; i++)
        {
            var part = context.AllocateOutput(i, DataType.Float32, _partShape);
            _partData[i] = (nint)part.Pointer;
            length = part.Length;
        }

        if (length > 0) Multiply(x, null, null, null, context.Parallel, _partData);
    }

    private void Multiply(Tensor x, Tensor? y, Tensor? sum, FusedActivation? activation, ParallelRunner parallel, nint[]? parts = null)
    {
        int k = _packed.K, n = _packed.N;
        var (scale, zero) = _activation.For(x, parallel);
        for (int j = 0; j < n; j++) _scale[j] = scale * _wScale[j];
        var output = new QgemmOutput
        {
            Kind = QgemmOutputKind.Float,
            Data = y is null ? null : y.Pointer,
            PartData = parts,
            PartColumns = parts is null ? 0 : n / parts.Length,
            RowStride = n,
            ColStride = 1,
            AZero = zero,
            BZero = _bZero,
            ColumnSums = _packed.ColumnSums,
            K = k,
            Scale = _scale,
            FloatBias = _bias,
            Sum = sum is null ? null : (float*)sum.Pointer,
            Activation = activation,
        };

        int m = x.Length / Math.Max(1, k);
        Qgemm.Multiply(m, _packed, new QgemmFloatRows((float*)x.Pointer, k, scale, zero), output, parallel);

        GC.KeepAlive(x);
        GC.KeepAlive(y);
        GC.KeepAlive(sum);
    }
}
