# Texts of the application shell (bot/app.py, bot/telegram): shown when something broke.

app-error = Извините, что-то пошло не так. Попробуйте ещё раз чуть позже.
app-error-toast = Не получилось, попробуйте ещё раз
# In a group chat, in reply to a staff message meant for the bot that it gave up on.
app-error-group = Извините, не удалось обработать это сообщение. Пожалуйста, отправьте его ещё раз.

# To the admin chats: an incoming update was started again and again and never finished; the
# bot gave up on it. Names the platform and the kind of update, never its content.
app-update-given-up = ⚠️ Входящее обновление ({ $platform }, { $kind }) не удалось обработать за { $starts } попыток, бот его пропустил. Если оно пришло из личного чата или было ответом боту в группе, человеку отправлены извинения. Подробности — в журнале бота.
