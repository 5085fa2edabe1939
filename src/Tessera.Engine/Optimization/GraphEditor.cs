using Tessera.Kernels.Core;
using Tessera.Onnx.Graph;
using Tessera.Onnx.Inference;
using Tessera.Tensors;

namespace Tessera.Engine.Optimization;

/// <summary>
/// The private working copy of a model that passes rewrite. The node list, the nodes themselves (their input,
/// output and attribute collections), the initializer table and the value infos are copied, so passes may edit
/// them freely and the caller's model never changes; tensors and attribute values are shared and never written.
/// Producer and consumer indexes are rebuilt lazily after an edit.
/// </summary>
internal sealed partial class GraphEditor
{
    // Graph outputs and values read inside subgraphs (If/Loop/Scan bodies name outer values implicitly):
    // a pass may neither rename them nor remove their producer.
    private readonly HashSet<string> _pinned;
    private readonly TextWriter? _log;
    private Dictionary<string, OnnxNode>? _producers;
    private Dictionary<string, List<OnnxNode>>? _consumers;
    private HashSet<OnnxNode>? _live;
    private int _nextId;

    public GraphEditor(OnnxModel model, KernelRegistry registry, TextWriter? log)
    {
        Model = ModelCopy.Of(model);
        Registry = registry;
        _log = log;
        _pinned = new HashSet<string>(Graph.Outputs.Select(o => o.Name), StringComparer.Ordinal);
        foreach (var node in Graph.Nodes) AddSubgraphReads(node, _pinned);
        try
        {
            ShapeInference.Infer(Model);
        }
        catch (Exception)
        {
            // Shapes only decide whether some rewrites apply; without them those rewrites are skipped.
        }
    }

    public OnnxModel Model { get; }

    public OnnxGraph Graph => Model.Graph;

    public List<OnnxNode> Nodes => Model.Graph.Nodes;

    public KernelRegistry Registry { get; }

    /// <summary>The pass now running, for the log.</summary>
    public string PassName { get; set; } = string.Empty;

    /// <summary>Rewrites made so far (each one <see cref="Log"/> call).</summary>
    public int ChangeCount { get; private set; }

    public bool IsPinned(string value) => _pinned.Contains(value);

    /// <summary>Whether <paramref name="node"/> is still in the graph (passes sweep over a snapshot of the node list).</summary>
    public bool IsLive(OnnxNode node)
    {
        EnsureIndexes();
        return _live!.Contains(node);
    }

    public OnnxNode? Producer(string value) => Producers().GetValueOrDefault(value);

    public IReadOnlyList<OnnxNode> Consumers(string value) =>
        Consumers().TryGetValue(value, out var list) ? list : [];

    /// <summary>Whether <paramref name="value"/> is an intermediate read only by <paramref name="nodes"/>, so a rewrite of them may drop it.</summary>
    public bool OnlyFeeds(string value, IReadOnlyCollection<OnnxNode> nodes) =>
        !IsPinned(value) && Consumers(value).All(nodes.Contains);

    /// <summary>Whether replacing <paramref name="nodes"/> by one node writing <paramref name="root"/>'s output loses no value another node or the caller reads.</summary>
    public bool IsSelfContained(IReadOnlyCollection<OnnxNode> nodes, OnnxNode root) =>
        nodes.Where(n => n != root).All(n => n.Outputs.All(o => o.Length == 0 || OnlyFeeds(o, nodes)));

    /// <summary>The single node reading <paramref name="value"/>, when it is an unpinned intermediate with exactly one reader.</summary>
    public OnnxNode? SoleConsumer(string value)
    {
        if (IsPinned(value)) return null;
        var consumers = Consumers(value);
        return consumers.Count == 1 && consumers[0].Inputs.Count(i => i == value) == 1 ? consumers[0] : null;
    }

    /// <summary>
    /// Removes <paramref name="removed"/> and puts <paramref name="added"/> (a new node) where the last of them was, which
    /// keeps the node list in a valid order; or, <paramref name="atFirst"/>, where the first was (for nodes side by side
    /// that read only what the first reads, whose outputs may be read before the last).
    /// </summary>
    public void Replace(IReadOnlyCollection<OnnxNode> removed, OnnxNode? added, bool atFirst = false)
    {
        var gone = new HashSet<OnnxNode>(removed);
        int last = atFirst ? Nodes.FindIndex(gone.Contains) : Nodes.FindLastIndex(gone.Contains);
        if (added is not null) Nodes[last] = added;
        Nodes.RemoveAll(gone.Contains);
        if (_live is null) return;
        foreach (var node in gone) Unindex(node);
        if (added is not null) Index(added);
    }

    public void Remove(OnnxNode node) => Replace([node], null);

    /// <summary>Makes every reader of <paramref name="from"/> read <paramref name="to"/> instead.</summary>
    public void RenameUses(string from, string to)
    {
        foreach (var node in Consumers(from).ToList())
        {
            Unindex(node);
            for (int i = 0; i < node.Inputs.Count; i++)
            {
                if (node.Inputs[i] == from) node.Inputs[i] = to;
            }

            Index(node);
        }
    }

    /// <summary>Call after editing a node's outputs in place.</summary>
    public void Invalidate() => _live = null;

    public string AddInitializer(string hint, Tensor value)
    {
        string name = UniqueName(hint);
        Graph.Initializers[name] = value;
        return name;
    }

    public string UniqueName(string hint)
    {
        int mark = hint.LastIndexOf("/opt", StringComparison.Ordinal);
        if (mark > 0 && hint[(mark + 4)..].All(char.IsAsciiDigit)) hint = hint[..mark];
        string name;
        do
        {
            name = $"{hint}/opt{_nextId++}";
        }
        while (Producers().ContainsKey(name) || Graph.Initializers.ContainsKey(name) || Graph.Inputs.Any(i => i.Name == name));
        return name;
    }

    public static OnnxNode NewNode(string opType, string domain, string name, IEnumerable<string> inputs, IEnumerable<string> outputs)
    {
        var node = new OnnxNode { OpType = opType, Domain = domain, Name = name };
        node.Inputs.AddRange(inputs);
        node.Outputs.AddRange(outputs);
        return node;
    }

    /// <summary>Declares the com.tessera opset once a pass emits one of its operators.</summary>
    public void UseTesseraDomain() => Model.OpsetImports.TryAdd(TesseraDomain.Name, TesseraDomain.Version);

    public void Log(string message)
    {
        ChangeCount++;
        _log?.WriteLine($"tessera: pass {PassName}: {message}");
    }

    public void WriteSummary(string message) => _log?.WriteLine($"tessera: {message}");

    /// <summary>Drops initializers no node reads any more (folded weights, for instance); overridable ones stay, as callers may feed them.</summary>
    public void PruneInitializers()
    {
        var read = new HashSet<string>(Nodes.SelectMany(n => n.Inputs), StringComparer.Ordinal);
        read.UnionWith(_pinned);
        foreach (string name in Graph.Initializers.Keys.ToList())
        {
            if (!read.Contains(name) && !Graph.OverridableInitializers.Contains(name)) Graph.Initializers.Remove(name);
        }
    }

    private Dictionary<string, OnnxNode> Producers()
    {
        EnsureIndexes();
        return _producers!;
    }

    private Dictionary<string, List<OnnxNode>> Consumers()
    {
        EnsureIndexes();
        return _consumers!;
    }

    // The three indexes are built together on first use after Invalidate and then kept up to date by each edit.
    private void EnsureIndexes()
    {
        if (_live is not null) return;
        _live = [];
        _producers = new Dictionary<string, OnnxNode>(StringComparer.Ordinal);
        _consumers = new Dictionary<string, List<OnnxNode>>(StringComparer.Ordinal);
        foreach (var node in Nodes) Index(node);
    }

    private void Index(OnnxNode node)
    {
        _live!.Add(node);
        foreach (string output in node.Outputs)
        {
            if (output.Length > 0) _producers!.TryAdd(output, node);
        }

        foreach (string input in node.Inputs)
        {
            if (input.Length == 0) continue;
            if (!_consumers!.TryGetValue(input, out var list)) _consumers[input] = list = [];
            if (!list.Contains(node)) list.Add(node);
        }
    }

    private void Unindex(OnnxNode node)
    {
        _live!.Remove(node);
        foreach (string output in node.Outputs)
        {
            if (_producers!.TryGetValue(output, out var p) && p == node) _producers.Remove(output);
        }

        foreach (string input in node.Inputs)
        {
            if (_consumers!.TryGetValue(input, out var list)) list.Remove(node);
        }
    }

    private static void AddSubgraphReads(OnnxNode node, HashSet<string> names)
    {
        foreach (var attribute in node.Attributes.Values)
        {
            var graphs = attribute.Graph is { } g ? attribute.Graphs.Append(g) : attribute.Graphs;
            foreach (var graph in graphs)
            {
                foreach (var inner in graph.Nodes)
                {
                    names.UnionWith(inner.Inputs);
                    AddSubgraphReads(inner, names);
                }
            }
        }
    }
}
