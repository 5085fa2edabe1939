using System.Numerics.Tensors;
using Tessera.Onnx.Graph;
using Tessera.Tensors;
using Tensor = Tessera.Tensors.Tensor;

namespace Tessera.Engine.Quantization;

/// <summary>
/// Static calibration: runs the float model on sample inputs with the chosen activations exposed as extra outputs and
/// keeps each one's overall minimum and maximum; the range always includes 0, so zero is exactly representable.
/// </summary>
internal static class ActivationRanges
{
    public static Dictionary<string, (float Min, float Max)> Collect(OnnxModel model, IReadOnlyCollection<string> names,
        IReadOnlyList<IReadOnlyDictionary<string, Tensor>> samples, TextWriter? progress)
    {
        if (samples.Count == 0) throw new QuantizationException("static quantization needs calibration inputs (--calibration DIR)");
        var probe = ModelCopy.Of(model);
        var declared = new HashSet<string>(probe.Graph.Outputs.Select(o => o.Name), StringComparer.Ordinal);
        foreach (string name in names.Where(declared.Add))
        {
            probe.Graph.Outputs.Add(new ValueInfo { Name = name, ElementType = DataType.Float32 });
        }

        var ranges = names.ToDictionary(n => n, _ => (Min: 0f, Max: 0f), StringComparer.Ordinal);
        var session = new InferenceSession(probe, new SessionOptions { GraphOptimization = Optimization.GraphOptimizationLevel.Basic });
        for (int i = 0; i < samples.Count; i++)
        {
            var outputs = session.Run(samples[i]);
            foreach (string name in names)
            {
                var values = outputs[name];
                if (values.DataType != DataType.Float32 || values.Length == 0) continue;
                var (min, max) = ranges[name];
                ranges[name] = (Math.Min(min, TensorPrimitives.Min(values.Span<float>())), Math.Max(max, TensorPrimitives.Max(values.Span<float>())));
            }

            progress?.WriteLine($"tessera: calibration sample {i + 1}/{samples.Count}");
        }

        return ranges;
    }

    /// <summary>uint8 parameters covering [min, max] (which contains 0): scale (max - min) / 255 and the zero point that maps 0 exactly.</summary>
    public static (float Scale, byte ZeroPoint) Parameters(float min, float max)
    {
        float scale = max == min ? 1f : (max - min) / 255f;
        return (scale, (byte)MathF.Round(Math.Clamp(-min / scale, 0f, 255f)));
    }
}
