using Tessera.Tensors;

namespace Tessera.Kernels.Resize;

/// <summary>
/// Everything a resize derives from its input shape, output shape, scales and roi: per-axis taps, input strides and
/// the bilinear column tables. A <see cref="ResizeKernel"/> keeps the plan of its last call, so runs with fixed
/// shapes build none of it again.
/// </summary>
internal sealed class ResizePlan
{
    private readonly int[] _inputShape;
    private readonly int[] _outputShape;
    private readonly double[] _scales;
    private readonly double[] _roi;

    public ResizePlan(AxisTaps[] taps, ReadOnlySpan<int> inputShape, ReadOnlySpan<int> outputShape, ReadOnlySpan<double> scales, ReadOnlySpan<double> roi)
    {
        Taps = taps;
        _inputShape = inputShape.ToArray();
        _outputShape = outputShape.ToArray();
        _scales = scales.ToArray();
        _roi = roi.ToArray();
        InputStrides = ShapeMath.Strides(inputShape);
    }

    public AxisTaps[] Taps { get; }

    public int[] InputStrides { get; }

    public int[] OutputShape => _outputShape;

    /// <summary>The last axis's taps as the float tables <see cref="BilinearPlanes"/> gathers with, built on first use.</summary>
    public BilinearColumns Columns => field ??= new BilinearColumns(Taps[^1]);

    public bool Matches(ReadOnlySpan<int> inputShape, ReadOnlySpan<int> outputShape, ReadOnlySpan<double> scales, ReadOnlySpan<double> roi) =>
        inputShape.SequenceEqual(_inputShape) && outputShape.SequenceEqual(_outputShape) && scales.SequenceEqual(_scales) && roi.SequenceEqual(_roi);
}
