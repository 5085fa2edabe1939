using Tessera.Engine;
using Tessera.Engine.Optimization;
using Tessera.Onnx.Graph;

namespace Tessera.Partitioning.Cost;

/// <summary>
/// The cost model of one model for fixed input shapes. The model is first optimised exactly as an
/// <see cref="InferenceSession"/> would (fusions, foldings), because plans cut the optimised graph: a cut then
/// never splits a fusion, and every part computes with the same kernels as the single-node run. Nodes whose
/// inputs are all constant are folded by sessions, so they are not steps here: they travel with every step that
/// reads them. <see cref="Nodes"/> are the remaining steps in a topological order; a part is a contiguous range of
/// them, and position <c>k</c> (0..Count) is the cut before step <c>k</c>.
/// </summary>
public sealed partial class ModelCost
{
    private readonly List<OnnxNode> _steps = [];
    private readonly List<OnnxNode> _constantNodes = [];
    private readonly List<string> _initializers = [];
    private readonly List<long> _sourceBytes = [];
    private readonly List<int[]> _stepSources = [];
    private readonly List<List<string>> _stepReads = [];
    private readonly Dictionary<string, int> _producer = new(StringComparer.Ordinal);
    private readonly Dictionary<string, int> _lastUse = new(StringComparer.Ordinal);
    private readonly Dictionary<string, long> _bytes = new(StringComparer.Ordinal);
    private readonly Dictionary<string, Tessera.Tensors.DataType> _types = new(StringComparer.Ordinal);
    private readonly Dictionary<string, int> _ranks = new(StringComparer.Ordinal);
    private readonly List<string> _runtimeValues = [];
    private readonly List<NodeCost> _nodes = [];
    private readonly HashSet<string> _outputSourceValues = new(StringComparer.Ordinal);
    private long[] _live = [];
    private long[] _cut = [];

    /// <summary>The optimised model the steps belong to (what stage sub-models are cut from).</summary>
    public OnnxModel OptimizedModel { get; }

    /// <summary>The caller's model, unchanged.</summary>
    public OnnxModel SourceModel { get; }

    public IReadOnlyDictionary<string, int[]> InputShapes { get; }

    /// <summary>The steps (nodes run per inference) in execution order, with their costs.</summary>
    public IReadOnlyList<NodeCost> Nodes => _nodes;

    /// <summary>Values whose size shape inference could not tell; they count as 0 bytes.</summary>
    public int UnknownValueCount { get; private set; }

    public double TotalFlops => _nodes.Sum(n => n.Flops);

    /// <summary>Bytes of every constant the model holds (initializers and folded values).</summary>
    public long TotalParameterBytes => _sourceBytes.Sum();

    public static ModelCost Analyze(OnnxModel model, IReadOnlyDictionary<string, int[]> inputShapes)
    {
        var optimized = GraphOptimizer.Optimize(model, new SessionOptions());
        return new ModelCost(model, optimized, inputShapes);
    }

    /// <summary>Bytes of a value produced per run (or a graph input); 0 when unknown.</summary>
    public long ValueBytes(string name) => _bytes.GetValueOrDefault(name);

    /// <summary>Bytes crossing cut <paramref name="position"/>: values made before it and read at or after it (model outputs are read after the last step).</summary>
    public long CutBytes(int position) => _cut[position];

    /// <summary>The values crossing cut <paramref name="position"/>, graph inputs first, then in order of production.</summary>
    public IReadOnlyList<string> CutValues(int position) =>
        _runtimeValues.Where(v => _producer[v] < position && _lastUse[v] >= position).ToList();

    /// <summary>Bytes of the constants a part running steps <paramref name="first"/>..<paramref name="last"/> holds.</summary>
    public long ParameterBytes(int first, int last) => SourcesOf(first, last).Sum(s => _sourceBytes[s]);

    /// <summary>The largest sum of live intermediate bytes while the part runs (its inputs and pass-through values included).</summary>
    public long PeakActivationBytes(int first, int last)
    {
        long peak = 0;
        for (int t = first; t <= last; t++) peak = Math.Max(peak, _live[t]);
        return peak;
    }

    public long PeakMemoryBytes(int first, int last) => ParameterBytes(first, last) + PeakActivationBytes(first, last);

    /// <summary>Live bytes during step <paramref name="step"/>.</summary>
    internal long LiveBytes(int step) => _live[step];

    internal IReadOnlyList<OnnxNode> Steps => _steps;

    /// <summary>The element type of a value produced per run, as inferred (Undefined when unknown).</summary>
    internal Tessera.Tensors.DataType ElementTypeOf(string value) => _types.GetValueOrDefault(value);

    /// <summary>The rank of a value produced per run at the analysed shapes, or null when unknown.</summary>
    internal int? RankOf(string value) => _ranks.TryGetValue(value, out int rank) ? rank : null;

    internal IReadOnlyList<string> ReadsOf(int step) => _stepReads[step];

    internal int ProducerOf(string value) => _producer.TryGetValue(value, out int p) ? p : int.MinValue;

    /// <summary>Constant sources (initializers and folded constant nodes) steps first..last need, plus those of constant model outputs when the range ends the model.</summary>
    internal SortedSet<int> SourcesOf(int first, int last)
    {
        var set = new SortedSet<int>();
        for (int t = first; t <= last; t++) set.UnionWith(_stepSources[t]);
        if (last == _steps.Count - 1)
        {
            foreach (string v in _outputSourceValues) set.UnionWith(ConstantClosure(v));
        }

        return set;
    }

    /// <summary>Initializer name for a source id, or null when the source is a constant node.</summary>
    internal string? InitializerOf(int source) => source < _initializers.Count ? _initializers[source] : null;

    internal OnnxNode? ConstantNodeOf(int source) => source >= _initializers.Count ? _constantNodes[source - _initializers.Count] : null;
}
