namespace Tessera.Serving.Repository;

/// <summary>One line of Triton's repository index: a model version that is served (READY), or a model that is not (UNAVAILABLE, no version).</summary>
internal sealed record RepositoryIndexEntry(string Name, string Version, string State, string Reason)
{
    public const string Ready = "READY";
    public const string Unavailable = "UNAVAILABLE";
}
