namespace Tessera.Cluster.Transport;

/// <summary>A failure classified by <see cref="ClusterErrorCode"/>; the message is one line meant for users.</summary>
public sealed class ClusterException : Exception
{
    public ClusterException(ClusterErrorCode code, string message, Exception? inner = null)
        : base(message, inner)
    {
        Code = code;
    }

    public ClusterErrorCode Code { get; }
}
