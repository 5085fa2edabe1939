using Tessera.Kernels.Collective;
using Tessera.Onnx.Graph;
using Tessera.Tensors;

namespace Tessera.Kernels.Core;

/// <summary>What a kernel factory may know about its node: attributes, opset, and inputs that are constant.</summary>
public sealed class KernelInfo
{
    private readonly IReadOnlyDictionary<string, NodeAttribute> _attributes;
    private readonly Func<int, Tensor?> _constantInput;

    public KernelInfo(string opType, string domain, int opsetVersion, string nodeName, int inputCount, int outputCount,
        IReadOnlyDictionary<string, NodeAttribute> attributes, Func<int, Tensor?> constantInput, ParallelRunner parallel)
    {
        OpType = opType;
        Domain = domain;
        OpsetVersion = opsetVersion;
        NodeName = nodeName;
        InputCount = inputCount;
        OutputCount = outputCount;
        _attributes = attributes;
        _constantInput = constantInput;
        Parallel = parallel;
    }

    public string OpType { get; }

    public string Domain { get; }

    /// <summary>The model's opset version for this node's domain (not the operator's since-version).</summary>
    public int OpsetVersion { get; }

    public string NodeName { get; }

    /// <summary>Number of input slots, counting omitted optional inputs in the middle.</summary>
    public int InputCount { get; }

    public int OutputCount { get; }

    public ParallelRunner Parallel { get; }

    /// <summary>The session's link to the other ranks of a tensor-parallel group, for collective operators; null otherwise.</summary>
    public ICollectiveCommunicator? Communicator { get; init; }

    /// <summary>The value of input <paramref name="index"/> when it is an initializer or folded constant; otherwise null.</summary>
    public Tensor? ConstantInput(int index) => index < InputCount ? _constantInput(index) : null;

    public bool HasAttribute(string name) => _attributes.ContainsKey(name);

    public long GetInt(string name, long defaultValue) => _attributes.TryGetValue(name, out var a) ? a.Int : defaultValue;

    public float GetFloat(string name, float defaultValue) => _attributes.TryGetValue(name, out var a) ? a.Float : defaultValue;

    public string GetString(string name, string defaultValue) => _attributes.TryGetValue(name, out var a) ? a.String : defaultValue;

    public long[]? GetInts(string name) => _attributes.TryGetValue(name, out var a) ? a.Ints : null;

    public float[]? GetFloats(string name) => _attributes.TryGetValue(name, out var a) ? a.Floats : null;

    public string[]? GetStrings(string name) => _attributes.TryGetValue(name, out var a) ? a.Strings : null;

    public Tensor? GetTensor(string name) => _attributes.TryGetValue(name, out var a) ? a.Tensor : null;

    public NodeAttribute? GetAttribute(string name) => _attributes.GetValueOrDefault(name);

    public long GetRequiredInt(string name) => _attributes.TryGetValue(name, out var a)
        ? a.Int
        : throw new KernelException($"{OpType} needs attribute '{name}'");
}
