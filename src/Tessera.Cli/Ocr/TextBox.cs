namespace Tessera.Cli.Ocr;

/// <summary>A detected line of text: its box on the image and the detector's mean probability inside it.</summary>
internal sealed record TextBox(Quad Box, double Score);
