# Texts shared by the dialogue and the desk. Arguments are HTML-escaped by handlers.texts.

status-moderation = на проверке в центре управления регионом
status-new = новое
status-passed = передано в ведомство
status-in_progress = в работе
status-answered = дан ответ
status-solved = решено
status-rejected = отклонено
status-redirected = перенаправлено
status-contested = отказ оспорен жителем
status-closed = закрыто
status-review = ответ на проверке в центре управления регионом

appeal-number = № { $number }
