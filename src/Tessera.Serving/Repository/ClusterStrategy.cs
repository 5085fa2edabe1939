namespace Tessera.Serving.Repository;

/// <summary>How a model uses its workers when the server runs on a cluster (config "strategy", `serve --strategy`).</summary>
internal enum ClusterStrategy
{
    /// <summary>The whole model on every worker of its subset: one replica per worker ("data").</summary>
    Data = 0,

    /// <summary>One pipeline through all the workers of its subset, cut by the planner ("pipeline").</summary>
    Pipeline = 1,

    /// <summary>The planner's choice among single, data, pipeline and hybrid over its subset ("auto").</summary>
    Auto = 2,
}
