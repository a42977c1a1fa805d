using System.Reflection.Metadata;
using System.Reflection.PortableExecutable;

namespace AspireLlm.Orchestration.Embeddings;

/// <summary>
/// Reads resources embedded in a package's assembly without loading it. Loaded, even into a collectible
/// context that is unloaded at once, the 87 MB model assembly stayed mapped and resident until some later
/// full collection with finalizers; read through a <see cref="PEReader"/>, its file is closed when the read ends.
/// </summary>
internal static class PackageResources
{
    public static (byte[] First, byte[] Second) Read(string assemblyPath, string first, string second)
    {
        using var file = File.OpenRead(assemblyPath);
        using var image = new PEReader(file);
        var directory = image.PEHeaders.CorHeader?.ResourcesDirectory
            ?? throw new InvalidDataException($"{assemblyPath} is not a .NET assembly.");
        var metadata = image.GetMetadataReader();
        var resources = image.GetSectionData(directory.RelativeVirtualAddress);
        return (Read(metadata, resources, directory.Size, first, assemblyPath), Read(metadata, resources, directory.Size, second, assemblyPath));
    }

    private static byte[] Read(MetadataReader metadata, PEMemoryBlock resources, int directorySize, string name, string assemblyPath)
    {
        foreach (var handle in metadata.ManifestResources)
        {
            var resource = metadata.GetManifestResource(handle);
            if (resource.Implementation.IsNil && metadata.StringComparer.Equals(resource.Name, name))
            {
                // An embedded resource is its length (4 bytes, little-endian) and then its bytes, at its offset
                // into the resources directory that the CLI header names (ECMA-335: the ManifestResource table).
                var reader = resources.GetReader((int)resource.Offset, Math.Min(directorySize, resources.Length) - (int)resource.Offset);
                var length = reader.ReadInt32();
                return length >= 0 && length <= reader.RemainingBytes
                    ? reader.ReadBytes(length)
                    : throw new InvalidDataException($"{assemblyPath}'s resource {name} runs past its resources directory.");
            }
        }

        throw new InvalidDataException($"{assemblyPath} has no embedded resource {name}.");
    }
}
