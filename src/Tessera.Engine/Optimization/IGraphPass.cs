namespace Tessera.Engine.Optimization;

/// <summary>One named rewrite. <see cref="Apply"/> makes one sweep over the graph and says whether it changed anything.</summary>
internal interface IGraphPass
{
    string Name { get; }

    /// <summary>The lowest optimization level that runs this pass.</summary>
    GraphOptimizationLevel Level { get; }

    bool Apply(GraphEditor graph);
}
