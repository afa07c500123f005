// TypeDoc plugin for toil-ts: a constant written `{ ... } as const satisfies T` is documented with
// the type it satisfies (T), not with the literal type of its whole value. Without it, a table of
// data such as CORE_OPTION_SPECS shows (and asks a comment for) every field of every entry.
import ts from "typescript";
import { Converter, ReflectionKind, ReflectionType, UnknownType } from "typedoc";

/** @param {import("typedoc").Application} app */
export function load(app) {
  /** @type {Map<import("typedoc").DeclarationReflection, string>} */
  const satisfied = new Map();
  app.converter.on(Converter.EVENT_CREATE_DECLARATION, (context, reflection) => {
    if (!reflection.kindOf(ReflectionKind.Variable)) return;
    const decl = context.getSymbolFromReflection(reflection)?.valueDeclaration;
    if (!decl || !ts.isVariableDeclaration(decl) || !decl.initializer || !ts.isSatisfiesExpression(decl.initializer)) return;
    satisfied.set(reflection, decl.initializer.type.getText());
  });
  app.converter.on(Converter.EVENT_RESOLVE_BEGIN, (context) => {
    for (const [reflection, typeText] of satisfied) {
      if (!(reflection.type instanceof ReflectionType)) continue;
      context.project.removeReflection(reflection.type.declaration);
      reflection.type = new UnknownType(typeText);
    }
    satisfied.clear();
  });
}
