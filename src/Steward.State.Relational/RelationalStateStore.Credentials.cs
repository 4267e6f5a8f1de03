using Steward.Security;

namespace Steward.State.Relational;

/// <summary>
/// Credentials at rest: instance admin and binding passwords are sealed with the <see cref="CredentialKey"/>
/// (kept in its own file, not in the database); binding API tokens are not stored at all, only their hashes,
/// and are derived from the key again when a binding is read.
/// </summary>
public abstract partial class RelationalStateStore
{
    protected static string AdminPasswordContext(string instanceId) => "instances.admin_password:" + instanceId;

    protected static string BindingPasswordContext(string bindingId) => "bindings.password:" + bindingId;

    /// <summary>The binding's token when the stored hash is that of the token the key derives; null otherwise.</summary>
    private string? ApiToken(string instanceId, string bindingId, string username, string? storedHash)
    {
        if (storedHash is null)
        {
            return null;
        }

        var token = _key.ApiToken(instanceId, bindingId, username);
        return Secrets.TokenHash(token) == storedHash ? token : null;
    }
}
