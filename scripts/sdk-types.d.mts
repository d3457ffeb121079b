/** The SDK's types for an OpenAPI document, as `npm run sdk:types` writes them. */
export function renderSdkTypes(document: object): Promise<string>;
