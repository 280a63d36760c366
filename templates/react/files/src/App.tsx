export default function App() {
  return (
    <main className="min-h-screen grid place-items-center bg-slate-50 text-slate-900">
      <div className="text-center">
        <h1 className="text-3xl font-semibold">Your React app</h1>
        <p className="mt-2 text-slate-600">Describe what to build, and it appears here.</p>
      </div>
    </main>
  );
}
