// Prettier at the width the Temporal samples use; everything else is Prettier's default.
export default { printWidth: 120, singleQuote: true };
