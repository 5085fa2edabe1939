using System.Numerics;
using System.Numerics.Tensors;
using Tessera.Kernels.Core;
using Tessera.Kernels.Pooling;
using Tessera.Tensors;
using Tensor = Tessera.Tensors.Tensor;

namespace Tessera.Kernels.Normalization;

/// <summary>
/// BatchNormalization (opsets 7-15). Inference folds scale, bias, mean and variance into one per-channel
/// multiply-add (precomputed at build time when all four are constants). Training mode (opset 14+
/// training_mode=1, or extra outputs before opset 14) normalises with the batch statistics and also returns the
/// updated running statistics (and, before opset 14, the batch statistics themselves).
/// </summary>
internal sealed unsafe class BatchNormalizationKernel : IKernel
{
    private readonly int _opset;
    private readonly double _epsilon;
    private readonly double _momentum;
    private readonly bool _spatial;
    private readonly bool _training;
    private readonly double[]? _constantScale;
    private readonly double[]? _constantShift;
    private readonly float[]? _constantScaleSingle;
    private readonly float[]? _constantShiftSingle;

    private static readonly string[] s_names = ["scale", "B", "input_mean", "input_var"];

    // Folded parameters of the last run when they are not constants; the kernel never runs concurrently with itself.
    private double[] _scratchScale = [];
    private double[] _scratchShift = [];
    private float[] _scratchScaleSingle = [];
    private float[] _scratchShiftSingle = [];

    public BatchNormalizationKernel(KernelInfo info)
    {
        _opset = info.OpsetVersion;
        _epsilon = info.GetFloat("epsilon", 1e-5f);
        _momentum = info.GetFloat("momentum", 0.9f);
        _spatial = _opset >= 9 || info.GetInt("spatial", 1) != 0;
        _training = _opset >= 14 ? info.GetInt("training_mode", 0) != 0 : info.OutputCount > 1;
        if (!_training && info.ConstantInput(1) is { } s && info.ConstantInput(2) is { } b
            && info.ConstantInput(3) is { } m && info.ConstantInput(4) is { } v)
        {
            (_constantScale, _constantShift) = Fold(HalfBridge.ReadAsDouble(s), HalfBridge.ReadAsDouble(b),
                HalfBridge.ReadAsDouble(m), HalfBridge.ReadAsDouble(v));
            _constantScaleSingle = ToSingle(_constantScale);
            _constantShiftSingle = ToSingle(_constantShift);
        }
    }

    public void Compute(KernelContext context)
    {
        Tensor x = context.RequiredInput(0, "X");
        NormalizationParameters.ComputeType(x.DataType, "BatchNormalization");
        if (x.Rank < 2)
        {
            throw new KernelException($"BatchNormalization needs an input of rank 2 or more (N x C x ...), got {ShapeMath.Format(x.Shape)}");
        }

        int batch = x.Shape[0], channels = x.Shape[1];
        int size = ShapeMath.Product(x.Shape, 2, x.Rank);
        int expected = _spatial ? channels : channels * size;
        var parameters = new ParameterSet(
            Parameter(context, 0, expected, x), Parameter(context, 1, expected, x), Parameter(context, 2, expected, x), Parameter(context, 3, expected, x));

        Tensor y = context.AllocateOutput(0, x.DataType, x.Shape);
        Tensor input = x.DataType == DataType.Float16 ? HalfBridge.ToSingle(x) : x;
        Tensor output = x.DataType == DataType.Float16 ? Tensor.Allocate(DataType.Float32, x.Shape) : y;

        double[] scale, shift;
        if (_training)
        {
            if (!_spatial)
            {
                throw new KernelException("BatchNormalization training with spatial=0 is not supported");
            }

            (double[] mean, double[] variance) = BatchStatistics.Compute(context.Parallel, input, batch, channels, size);
            (scale, shift) = Fold(HalfBridge.ReadAsDouble(parameters.Scale), HalfBridge.ReadAsDouble(parameters.Bias), mean, variance);
            WriteTrainingOutputs(context, parameters.Mean, parameters.Variance, mean, variance);
        }
        else if (_constantScale is not null && _constantShift is not null)
        {
            scale = _constantScale;
            shift = _constantShift;
        }
        else
        {
            // Parameters computed per run (or fed as inputs) are folded into buffers the kernel keeps.
            FoldInto(parameters, expected);
            scale = _scratchScale;
            shift = _scratchShift;
        }

        bool perElement = !_spatial || size == 1;
        if (input.DataType == DataType.Float64)
        {
            Apply(context.Parallel, input, output, batch, channels, size, scale, shift, perElement);
        }
        else
        {
            bool constant = ReferenceEquals(scale, _constantScale);
            bool scratch = ReferenceEquals(scale, _scratchScale);
            Apply(context.Parallel, input, output, batch, channels, size,
                constant ? _constantScaleSingle! : scratch ? _scratchScaleSingle : ToSingle(scale),
                constant ? _constantShiftSingle! : scratch ? _scratchShiftSingle : ToSingle(shift), perElement);
        }

        if (x.DataType == DataType.Float16)
        {
            HalfBridge.CopyToHalf(output, y);
        }
    }

    private static Tensor Parameter(KernelContext context, int index, int expected, Tensor x)
    {
        var parameter = context.RequiredInput(index + 1, s_names[index]);
        if (parameter.Length != expected)
        {
            throw new KernelException($"BatchNormalization {s_names[index]} {ShapeMath.Format(parameter.Shape)} must have {expected} elements for input {ShapeMath.Format(x.Shape)}");
        }

        return parameter;
    }

    private void FoldInto(ParameterSet p, int count)
    {
        if (_scratchScale.Length != count)
        {
            _scratchScale = new double[count];
            _scratchShift = new double[count];
            _scratchScaleSingle = new float[count];
            _scratchShiftSingle = new float[count];
        }

        for (int i = 0; i < count; i++)
        {
            double a = ValueAt(p.Scale, i) / Math.Sqrt(ValueAt(p.Variance, i) + _epsilon);
            _scratchScale[i] = a;
            _scratchShift[i] = ValueAt(p.Bias, i) - ValueAt(p.Mean, i) * a;
        }

        TensorPrimitives.ConvertTruncating<double, float>(_scratchScale, _scratchScaleSingle);
        TensorPrimitives.ConvertTruncating<double, float>(_scratchShift, _scratchShiftSingle);
    }

    private static double ValueAt(Tensor t, int i) => t.DataType switch
    {
        DataType.Float32 => t.Span<float>()[i],
        DataType.Float64 => t.Span<double>()[i],
        DataType.Float16 => (double)t.Span<Half>()[i],
        _ => throw new KernelException($"expected a floating-point tensor, got {DataTypes.Name(t.DataType)}"),
    };

    private (double[] Scale, double[] Shift) Fold(double[] scale, double[] bias, double[] mean, double[] variance)
    {
        var a = new double[scale.Length];
        var b = new double[scale.Length];
        for (int i = 0; i < a.Length; i++)
        {
            a[i] = scale[i] / Math.Sqrt(variance[i] + _epsilon);
            b[i] = bias[i] - mean[i] * a[i];
        }

        return (a, b);
    }

    private void WriteTrainingOutputs(KernelContext context, Tensor inputMean, Tensor inputVar, double[] mean, double[] variance)
    {
        double[] runningMean = HalfBridge.ReadAsDouble(inputMean);
        double[] runningVar = HalfBridge.ReadAsDouble(inputVar);
        for (int c = 0; c < mean.Length; c++)
        {
            runningMean[c] = runningMean[c] * _momentum + mean[c] * (1 - _momentum);
            runningVar[c] = runningVar[c] * _momentum + variance[c] * (1 - _momentum);
        }

        double[][] values = _opset >= 14 ? [runningMean, runningVar] : [runningMean, runningVar, mean, variance];
        for (int i = 0; i < values.Length; i++)
        {
            if (context.IsOutputRequested(i + 1))
            {
                Write(context.AllocateOutput(i + 1, inputMean.DataType, inputMean.Shape), values[i]);
            }
        }
    }

    private static void Write(Tensor destination, double[] values)
    {
        switch (destination.DataType)
        {
            case DataType.Float64: values.CopyTo(destination.Span<double>()); break;
            case DataType.Float32: TensorPrimitives.ConvertTruncating<double, float>(values, destination.Span<float>()); break;
            case DataType.Float16: TensorPrimitives.ConvertTruncating<double, Half>(values, destination.Span<Half>()); break;
            default: throw new KernelException($"BatchNormalization statistics cannot be {DataTypes.Name(destination.DataType)}");
        }
    }

    private static void Apply<T>(ParallelRunner parallel, Tensor x, Tensor y, int batch, int channels, int size, T[] scale, T[] shift, bool perElement)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (perElement)
        {
            // Parameters vary along the whole (C x spatial) row of each batch item.
            var rows = new RowBody<T>(x, y, scale, shift);
            parallel.ForRange(batch, Math.Max(1, 32768 / Math.Max(1, scale.Length)), ref rows);
            return;
        }

        var planes = new PlaneBody<T>(x, y, scale, shift, channels, size);
        parallel.ForRange(batch * channels, Math.Max(1, 32768 / Math.Max(1, size)), ref planes);
    }

    private readonly struct RowBody<T>(Tensor x, Tensor y, T[] scale, T[] shift) : IRangeBody
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        public void Invoke(int start, int end)
        {
            int row = scale.Length;
            for (int n = start; n < end; n++)
            {
                TensorPrimitives.MultiplyAdd(new ReadOnlySpan<T>((T*)x.Pointer + (long)n * row, row), scale, shift,
                    new Span<T>((T*)y.Pointer + (long)n * row, row));
            }

            // Spans over raw pointers do not keep the tensors' storage alive on their own.
            GC.KeepAlive(x);
            GC.KeepAlive(y);
        }
    }

    private readonly struct PlaneBody<T>(Tensor x, Tensor y, T[] scale, T[] shift, int channels, int size) : IRangeBody
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        public void Invoke(int start, int end)
        {
            for (int p = start; p < end; p++)
            {
                int c = p % channels;
                NormalizationMath.Affine(new ReadOnlySpan<T>((T*)x.Pointer + (long)p * size, size), scale[c], shift[c],
                    new Span<T>((T*)y.Pointer + (long)p * size, size));
            }

            GC.KeepAlive(x);
            GC.KeepAlive(y);
        }
    }

    private readonly record struct ParameterSet(Tensor Scale, Tensor Bias, Tensor Mean, Tensor Variance);

    private static float[] ToSingle(double[] values)
    {
        var single = new float[values.Length];
        TensorPrimitives.ConvertTruncating<double, float>(values, single);
        return single;
    }
}
