namespace Tessera.Cluster.Transport;

/// <summary>Who opened a connection, sent in HELLO. Numbers are part of the wire format.</summary>
public enum ConnectionRole : ushort
{
    /// <summary>A coordinator: ships models, sends requests, receives results and errors.</summary>
    Coordinator = 1,

    /// <summary>Another worker forwarding a pipeline stage's tensors or exchanging collective parts.</summary>
    Peer = 2,

    /// <summary>A worker announcing itself to a coordinator's membership listener.</summary>
    Joiner = 3,
}
