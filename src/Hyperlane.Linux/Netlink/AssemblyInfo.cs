using System.Runtime.CompilerServices;

[assembly: InternalsVisibleTo("Hyperlane.Linux.Tests")]
