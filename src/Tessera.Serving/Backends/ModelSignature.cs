using Tessera.Serving.Protocol;
using Tessera.Tensors;

namespace Tessera.Serving.Backends;

/// <summary>A model's inputs and outputs as clients see them, and the checks a request must pass before it queues.</summary>
internal sealed class ModelSignature
{
    public ModelSignature(IReadOnlyList<TensorSignature> inputs, IReadOnlyList<TensorSignature> outputs)
    {
        Inputs = inputs;
        Outputs = outputs;
    }

    public IReadOnlyList<TensorSignature> Inputs { get; }

    public IReadOnlyList<TensorSignature> Outputs { get; }

    /// <summary>True when every input and output has a leading dimension that is not fixed, so requests can be stacked along it.</summary>
    public bool HasBatchAxis =>
        Inputs.Count > 0 && Inputs.Concat(Outputs).All(t => t.Shape is { Length: > 0 } s && s[0] < 0);

    public TensorSignature? FindOutput(string name)
    {
        foreach (var o in Outputs)
        {
            if (o.Name == name) return o;
        }

        return null;
    }

    /// <summary>Throws a 400 naming the first problem: unknown or missing names, wrong datatypes or shapes.</summary>
    public void Validate(InferenceRequest request)
    {
        foreach (var (name, tensor) in request.Inputs)
        {
            var declared = FindInput(name) ?? throw ServingException.BadRequest(
                $"the model has no input named '{name}'; its inputs are: {string.Join(", ", Inputs.Select(i => i.Name))}");
            if (declared.DataType != tensor.DataType)
            {
                throw ServingException.BadRequest(
                    $"input '{name}' must be {WireDataTypes.Name(declared.DataType)}, got {WireDataTypes.Name(tensor.DataType)}");
            }

            if (!declared.Accepts(tensor.Shape))
            {
                throw ServingException.BadRequest(
                    $"input '{name}' has shape {ShapeMath.Format(tensor.Shape)}, but the model expects {declared.FormatShape()} (-1: any size)");
            }
        }

        foreach (var declared in Inputs)
        {
            if (!request.Inputs.ContainsKey(declared.Name))
            {
                throw ServingException.BadRequest(
                    $"missing input '{declared.Name}' ({WireDataTypes.Name(declared.DataType)}{declared.FormatShape()})");
            }
        }

        foreach (var o in request.Outputs)
        {
            if (FindOutput(o.Name) is null)
            {
                throw ServingException.BadRequest(
                    $"the model has no output named '{o.Name}'; its outputs are: {string.Join(", ", Outputs.Select(x => x.Name))}");
            }
        }
    }

    private TensorSignature? FindInput(string name)
    {
        foreach (var i in Inputs)
        {
            if (i.Name == name) return i;
        }

        return null;
    }
}
