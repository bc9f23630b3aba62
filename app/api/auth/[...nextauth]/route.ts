import NextAuth from 'next-auth';
import { authOptions } from '../../../../lib/auth/next-auth-options';

// Options are built per request: the secret is read (or generated) at run time, not at build.
async function handler(request: Request, context: { params: Promise<{ nextauth: string[] }> }) {
  return NextAuth(request as never, { params: await context.params } as never, authOptions());
}

export { handler as GET, handler as POST };
