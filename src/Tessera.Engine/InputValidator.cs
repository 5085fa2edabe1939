using Tessera.Onnx.Graph;
using Tessera.Tensors;

namespace Tessera.Engine;

/// <summary>Checks a call's inputs against the graph's declared inputs: names, element types and known dimensions.</summary>
internal static class InputValidator
{
    /// <remarks>Allocates nothing when the inputs are valid, so that a steady-state run stays allocation-free.</remarks>
    public static void Validate(OnnxGraph graph, IReadOnlyDictionary<string, Tensor> inputs)
    {
        // Every declared input must be present (checked below), so any extra key is a name the model lacks.
        int known = graph.Inputs.Count;
        foreach (var name in graph.OverridableInitializers)
        {
            if (inputs.ContainsKey(name))
            {
                known++;
            }
        }

        if (inputs.Count > known)
        {
            ReportUnknownName(graph, inputs);
        }

        foreach (var declared in graph.Inputs)
        {
            if (!inputs.TryGetValue(declared.Name, out var tensor))
            {
                ReportUnknownName(graph, inputs); // a misspelt name explains a missing one best
                throw new InferenceException($"missing input '{declared.Name}' ({DataTypes.Name(declared.ElementType)}{declared.FormatShape()})");
            }

            if (declared.ElementType != DataType.Undefined && tensor.DataType != declared.ElementType)
            {
                throw new InferenceException($"input '{declared.Name}' must be {DataTypes.Name(declared.ElementType)}, got {DataTypes.Name(tensor.DataType)}");
            }

            if (declared.Shape is { } shape && !Matches(shape, tensor.Shape))
            {
                throw new InferenceException($"input '{declared.Name}' has shape {ShapeMath.Format(tensor.Shape)}, but the model expects {declared.FormatShape()}");
            }
        }

        foreach (var name in graph.OverridableInitializers)
        {
            if (inputs.TryGetValue(name, out var tensor))
            {
                var initializer = graph.Initializers[name];
                if (tensor.DataType != initializer.DataType || !ShapeMath.SameShape(tensor.Shape, initializer.Shape))
                {
                    throw new InferenceException($"input '{name}' overrides an initializer of {initializer} but is {tensor}");
                }
            }
        }
    }

    private static void ReportUnknownName(OnnxGraph graph, IReadOnlyDictionary<string, Tensor> inputs)
    {
        foreach (var name in inputs.Keys)
        {
            if (!graph.Inputs.Any(i => i.Name == name) && !graph.OverridableInitializers.Contains(name))
            {
                string expected = string.Join(", ", graph.Inputs.Select(i => i.Name));
                throw new InferenceException($"the model has no input named '{name}'; its inputs are: {expected}");
            }
        }
    }

    private static bool Matches(Dimension[] declared, int[] actual)
    {
        if (declared.Length != actual.Length)
        {
            return false;
        }

        for (int i = 0; i < actual.Length; i++)
        {
            if (declared[i].Value is long v && v != actual[i])
            {
                return false;
            }
        }

        return true;
    }
}
