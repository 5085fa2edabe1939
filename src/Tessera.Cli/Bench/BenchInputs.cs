using Tessera.Cli.Common;
using Tessera.Onnx.Graph;
using Tessera.Tensors;

namespace Tessera.Cli.Bench;

/// <summary>The feeds of a benchmark: tensors read from --input files, random data of --shape shapes, or random data of the declared shape.</summary>
internal static class BenchInputs
{
    /// <summary>Fixed seed, so two runs of the same command feed the same data.</summary>
    private const int Seed = 1234;

    public static Dictionary<string, Tensor> Build(IReadOnlyList<ValueInfo> declared, IEnumerable<string> inputSpecs, IEnumerable<string> shapeSpecs)
    {
        var feeds = TensorFiles.ReadInputs(inputSpecs);
        var shapes = new Dictionary<string, ShapeSpec>(StringComparer.Ordinal);
        foreach (var spec in shapeSpecs.Select(ShapeSpec.Parse))
        {
            if (feeds.ContainsKey(spec.Name) || !shapes.TryAdd(spec.Name, spec))
            {
                throw new CliException($"input '{spec.Name}' is given twice");
            }

            if (!declared.Any(d => d.Name == spec.Name))
            {
                throw new CliException($"--shape: the model has no input named '{spec.Name}'; its inputs are: {string.Join(", ", declared.Select(d => d.Name))}");
            }
        }

        var random = new Random(Seed);
        foreach (var input in declared)
        {
            if (feeds.ContainsKey(input.Name))
            {
                continue;
            }

            var spec = shapes.GetValueOrDefault(input.Name);
            int[] shape = spec?.Dims ?? StaticShape(input);
            feeds[input.Name] = RandomTensors.Create(input.Name, input.ElementType, shape, spec?.Low, spec?.High, random);
        }

        return feeds;
    }

    /// <summary>
    /// Items per inference: the leading dimension of the first input whose declared leading dimension is
    /// symbolic (a batch axis), or 1 when every input has a fixed shape.
    /// </summary>
    public static int BatchSize(IReadOnlyList<ValueInfo> declared, IReadOnlyDictionary<string, Tensor> feeds)
    {
        foreach (var input in declared)
        {
            if (input.Shape is { Length: > 0 } shape && !shape[0].IsKnown && feeds.TryGetValue(input.Name, out var t) && t.Rank > 0)
            {
                return t.Shape[0];
            }
        }

        return 1;
    }

    private static int[] StaticShape(ValueInfo input)
    {
        if (input.Shape is null)
        {
            throw new CliException($"input '{input.Name}' has no declared shape: give one with --shape {input.Name}=D1xD2...");
        }

        var dims = new int[input.Shape.Length];
        for (int i = 0; i < dims.Length; i++)
        {
            dims[i] = input.Shape[i].Value is long v
                ? checked((int)v)
                : throw new CliException($"input '{input.Name}' has the symbolic dimension '{input.Shape[i]}' ({input.FormatShape()}): fix it with --shape {input.Name}=D1xD2...");
        }

        return dims;
    }
}
