namespace Tessera.Fuzz;

/// <summary>An input that broke a target's property, and how.</summary>
internal sealed record FuzzFinding(byte[] Input, string Failure);
